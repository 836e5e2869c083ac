"""Render the standard phrasing (标准用语): Jinja2 scripts per locale and channel.

Scripts live at ``<locale>/<channel>/<name>.j2`` in this package; a dealership replaces any of
them by putting a file at the same relative path in ``[scripts] override_dir``.  Files whose
name starts with ``_`` are partials (shared footers, slot lists), included by the others.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from outreach.scripts.filters import FILTERS
from outreach.scripts.sms import segments
from outreach.settings import CHANNELS, LOCALES, Settings

SHIPPED_DIR = Path(__file__).resolve().parent

# Campaign messages the dealership sends first: each ends with the opt-out instruction,
# which Chinese rules on commercial messages require in every such message.
PROACTIVE = frozenset({"offer", "reminder", "followup", "no_show"})


# How many SMS parts a script may take (each part is billed).  A Chinese part holds 67
# characters, an English (GSM-7) one 153: the offer fits 3 in both.  A script not listed: 2.
SEGMENT_BUDGETS = {
    "offer": 3,
    "no_show": 3,
    "followup": 2,
    "reminder": 3,
    "confirmation": 6,  # the booking's whole record: arrival, advisor, car, work, price, papers
    "rescheduled": 3,
}
DEFAULT_SEGMENT_BUDGET = 2

# When an SMS with several reasons is over its budget, the least pressing reasons are named as
# "N more" instead, in this order; a safety item is always named.
_DROP_FIRST = ("seasonal", "post_service_followup", "maintenance_interval", "deferred_work")


def segment_budget(name: str) -> int:
    """The most SMS parts script ``name`` should take."""
    return SEGMENT_BUDGETS.get(name, DEFAULT_SEGMENT_BUDGET)


class ScriptNotFound(LookupError):
    """No script of that name exists for the channel, in the locale or the default locale."""


class ScriptError(ValueError):
    """A script failed to render: a variable it needs is missing, or a filter refused a value."""


def _refuse_none(value: Any) -> Any:
    # A None printed as "None" in a customer's SMS is always a bug in the caller's context.
    if value is None:
        raise ScriptError("a script printed None: give the value, or guard it with {% if %}")
    return value


@lru_cache(maxsize=8)
def _environment(override_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.FileSystemLoader(SHIPPED_DIR))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - plain SMS and <Say> text; TwiML escapes it when built
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=_refuse_none,
    )
    env.filters.update(FILTERS)
    return env


def environment(settings: Settings) -> jinja2.Environment:
    """The one Jinja2 environment for these settings (shipped scripts plus overrides)."""
    return _environment(settings.scripts_override_dir)


def template_path(locale: str, channel: str, name: str) -> str:
    return f"{locale}/{channel}/{name}.j2"


def _find(env: jinja2.Environment, settings: Settings, name: str, locale: str, channel: str):
    if channel not in CHANNELS:
        raise ScriptNotFound(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    tried = [locale]
    if settings.dealership.default_locale != locale:
        tried.append(settings.dealership.default_locale)
    for candidate in tried:
        try:
            return candidate, env.get_template(template_path(candidate, channel, name))
        except jinja2.TemplateNotFound as exc:
            if exc.name != template_path(candidate, channel, name):
                raise  # the script exists but includes a missing partial: not a fallback case
    raise ScriptNotFound(
        f"no {channel} script named {name!r} for locale " + " or ".join(repr(t) for t in tried)
    )


def render(settings: Settings, name: str, *, locale: str, channel: str, **context: Any) -> str:
    """The script ``name`` for ``locale`` and ``channel``, filled with ``context``, as clean text.

    Falls back to the dealership's default locale only when the script has no file in
    ``locale``.  Always available to the script: ``locale``, ``channel``, ``tz`` (the
    dealership's zone unless given) and ``dealership`` (the name, phone, address and special
    services in the script's locale; keys given in ``context["dealership"]`` win).
    """
    env = environment(settings)
    used, template = _find(env, settings, name, locale, channel)
    d = settings.dealership
    dealership = {
        "name": d.name_in(used),
        "phone": d.phone,
        "address": d.address_in(used),
        "special_services": list(d.special_services.get(used, [])),
        **context.pop("dealership", {}),
    }
    values = {"tz": d.timezone, "more_reasons": 0, **context, "locale": used, "channel": channel}
    values["dealership"] = dealership
    text = _render(template, values, channel)
    if channel != "sms":
        return text
    # Over budget with several reasons: name the most pressing, count the rest.
    reasons = list(values.get("reasons") or [])
    budget = segment_budget(name)
    while segments(text) > budget and (drop := _least_pressing(reasons)) is not None:
        reasons.remove(drop)
        values = {**values, "reasons": reasons, "more_reasons": values["more_reasons"] + 1}
        text = _render(template, values, channel)
    return text


def _render(template: jinja2.Template, values: dict[str, Any], channel: str) -> str:
    try:
        return clean(template.render(values), channel)
    except jinja2.UndefinedError as exc:
        raise ScriptError(f"script {template.name}: {exc.message}") from exc
    except (TypeError, ValueError) as exc:
        raise ScriptError(f"script {template.name}: {exc}") from exc


def _least_pressing(reasons: list[Any]) -> Any | None:
    """The reason to leave unnamed first, or None when only one (or only safety items) remain."""
    if len(reasons) < 2:
        return None
    candidates = [
        r
        for r in reasons
        if isinstance(r, dict)
        and r.get("severity") != "safety"
        and r.get("campaign") in _DROP_FIRST
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (_DROP_FIRST.index(r["campaign"]), -reasons.index(r)))


_CJK_EDGE = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]")
_SPACES = re.compile(r"[ \t]+")


def clean(text: str, channel: str) -> str:
    """Tidy rendered text: no blank lines or stray spaces; a voice prompt becomes one line.

    Lines of a voice prompt are joined with a space, except where Chinese meets Chinese
    (Chinese has no spaces between sentences).
    """
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if channel != "voice":
        return "\n".join(lines)
    out = ""
    for line in lines:
        if out and not (_CJK_EDGE.match(out[-1]) or _CJK_EDGE.match(line[0])):
            out += " "
        out += line
    return out


def template_names(settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """Every (locale, channel, name) with a script: the shipped ones plus any overrides."""
    env = _environment(settings.scripts_override_dir if settings else None)
    names = set()
    for path in env.list_templates(extensions=["j2"]):
        parts = path.split("/")
        if len(parts) != 3 or parts[0] not in LOCALES or parts[1] not in CHANNELS:
            continue
        if not parts[2].startswith("_"):
            names.add((parts[0], parts[1], parts[2].removesuffix(".j2")))
    return sorted(names)


def is_overridden(settings: Settings, locale: str, channel: str, name: str) -> bool:
    """Whether the dealership's override folder replaces this script."""
    folder = settings.scripts_override_dir
    return folder is not None and (folder / template_path(locale, channel, name)).is_file()
