"""SMS scripts as registered provider templates (模板): fixed text with ``${name}`` variables.

A domestic Chinese provider sends only pre-approved templates, filled with short variables
(Aliyun: at most 35 characters each, no links, never a whole sentence).  Each SMS script is
read once as a template: every ``{{ … }}`` of the script becomes a variable named after its
expression (``{{ customer.name }}`` → ``${customer_name}``), and every ``{% if %}`` or
``{% for %}`` block becomes one variable holding what the block printed; partials are
inlined.  The text a script renders must then *be* its template with values filled in:
:func:`match` reads the values back from the rendered text, so the outbox stores and the
gateway sends exactly the same words, as template code + variables, never as free text.

:func:`check_scripts` renders every SMS script with its example data (and without a vehicle)
and reports, per script and locale, the template text, its type, the longest value seen for
each variable, and why a script cannot be registered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import nodes

from outreach.scripts.examples import example_context, example_reasons
from outreach.scripts.render import (
    PROACTIVE,
    SHIPPED_DIR,
    ScriptError,
    ScriptNotFound,
    clean,
    environment,
    render,
    template_names,
    template_path,
)
from outreach.settings import ConfigError, Settings

# The shipped script set that registers as Aliyun templates (zh-CN): point
# ``[scripts] override_dir`` at it (``config/scripts-cn`` links here).
CHINA_SCRIPTS = SHIPPED_DIR / "china"


@dataclass(frozen=True)
class Rules:
    """One provider's rules for a template: another provider (Tencent Cloud SMS: shorter
    variables) is another instance."""

    provider: str
    variable_limit: int  # characters a variable's value may have
    opt_out_line: str  # the line a marketing text (推广短信) must carry


# Aliyun's rules (变量规范): a variable has 1-35 characters, links are refused; carriers
# require the opt-out line at the end of a marketing text.
ALIYUN = Rules("aliyun", variable_limit=35, opt_out_line="拒收请回复R")
VARIABLE_LIMIT = ALIYUN.variable_limit
OPT_OUT_LINE = ALIYUN.opt_out_line
NOTIFICATION, MARKETING = "notification", "marketing"
_LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|cn|net|org|top|xyz|me|io)\b", re.I)
# A value ending a sentence (or holding a line break) carries a whole sentence.
_SENTENCE = re.compile(r"[。！？!?；\n]|\.\s|\.$")


@dataclass(frozen=True)
class Template:
    """One script as a provider template: ``text`` with ``${name}`` placeholders."""

    locale: str
    script: str
    text: str
    variables: tuple[str, ...]
    pattern: re.Pattern[str] = field(repr=False, compare=False)

    @property
    def kind(self) -> str:
        return MARKETING if self.script in PROACTIVE else NOTIFICATION

    def fill(self, values: dict[str, str]) -> str:
        """The template's text with ``values`` in place of its variables."""
        return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], self.text)


def match(template: Template, body: str) -> dict[str, str] | None:
    """The variables that make ``template`` read exactly ``body``, or None if it cannot."""
    found = template.pattern.fullmatch(body)
    if found is None:
        return None
    values = found.groupdict()
    return values if template.fill(values) == body else None


def template_for(settings: Settings, locale: str, script: str) -> Template:
    """Read the SMS script ``script`` of ``locale`` as a template."""
    return _template(environment(settings), locale, script)


@lru_cache(maxsize=256)
def _template(env: jinja2.Environment, locale: str, script: str) -> Template:
    builder = _Builder(env)
    builder.walk_template(template_path(locale, "sms", script))
    text = clean("".join(builder.parts), "sms")
    return Template(locale, script, text, tuple(builder.names), _pattern(text))


def _pattern(text: str) -> re.Pattern[str]:
    out, seen = [], set()
    for piece in re.split(r"(\$\{\w+\})", text):
        name = piece[2:-1] if piece.startswith("${") else None
        if name is None:
            out.append(re.escape(piece))
        elif name in seen:
            out.append(f"(?P={name})")
        else:
            seen.add(name)
            out.append(f"(?P<{name}>[\\s\\S]*?)")
    return re.compile("".join(out))


class _Builder:
    """Walks a script's syntax tree, writing literal text and ``${name}`` placeholders."""

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.parts: list[str] = []
        self.names: list[str] = []
        self._by_source: dict[str, str] = {}

    def walk_template(self, path: str) -> None:
        assert self.env.loader is not None  # noqa: S101 - environment() always has one
        source, _, _ = self.env.loader.get_source(self.env, path)
        self.walk(self.env.parse(source).body)

    def walk(self, body: list[nodes.Node]) -> None:
        for node in body:
            if isinstance(node, nodes.Output):
                for child in node.nodes:
                    if isinstance(child, nodes.TemplateData):
                        self.parts.append(child.data)
                    else:
                        self.variable(_name(child), _source(child))
            elif isinstance(node, nodes.Include) and isinstance(node.template, nodes.Const):
                self.walk_template(node.template.value)
            elif isinstance(node, nodes.If):
                self.variable(_name(node.test), "if " + _source(node.test))
            elif isinstance(node, nodes.For):
                self.variable(_name(node.iter), "for " + _source(node.iter))
            elif isinstance(node, (nodes.Macro, nodes.FromImport, nodes.Import, nodes.Assign)):
                continue  # prints nothing where it stands
            else:
                self.variable(type(node).__name__.lower(), repr(node))

    def variable(self, name: str, source: str) -> None:
        known = self._by_source.get(source)
        if known is None:
            known, n = name, 2
            while known in self.names:
                known, n = f"{name}_{n}", n + 1
            self.names.append(known)
            self._by_source[source] = known
        self.parts.append("${" + known + "}")


def _name(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_name(node.node)}_{node.attr}"
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, int)
    ):
        return f"{_name(node.node)}{node.arg.value + 1}"
    if isinstance(node, (nodes.Getitem, nodes.Not, nodes.Test, nodes.Filter)):
        inner = getattr(node, "node", None)
        return _name(inner) if inner is not None else getattr(node, "name", "value")
    if isinstance(node, nodes.Call):
        return _name(node.node)
    if isinstance(node, (nodes.And, nodes.Or)):
        return _name(node.left)
    if isinstance(node, nodes.Compare):
        return _name(node.expr)
    if isinstance(node, nodes.CondExpr):
        return _name(node.expr1)
    return "value"


def _source(node: nodes.Node) -> str:
    return repr(node)


@dataclass
class Report:
    """What ``scripts templates`` prints for one script and locale."""

    template: Template
    longest: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.problems)


def problems_of(template: Template, rules: Rules = ALIYUN) -> list[str]:
    """Why the template text itself cannot be registered (independent of any value)."""
    problems = []
    if "【" in template.text or "】" in template.text:
        problems.append("the text has 【】, which only the signature may use")
    if template.kind == MARKETING and rules.opt_out_line not in template.text:
        problems.append(f"a marketing text must carry the opt-out line {rules.opt_out_line!r}")
    if not re.sub(r"\$\{\w+\}|\s", "", template.text):
        problems.append("the text is only variables")
    elif re.search(r"\}\s*\$\{", template.text):
        problems.append("two variables stand next to each other: put fixed text between them")
    return problems


def value_problems(name: str, value: str, rules: Rules = ALIYUN) -> list[str]:
    """Why a variable's value breaks the provider's rules."""
    problems = []
    if len(value) > rules.variable_limit:
        problems.append(
            f"${{{name}}} is {len(value)} characters, over the limit of {rules.variable_limit}"
            f" ({value[:20]}…)"
        )
    if _LINK.search(value):
        problems.append(f"${{{name}}} carries a link ({value!r}): links belong in the fixed text")
    if _SENTENCE.search(value):
        problems.append(
            f"${{{name}}} carries a whole sentence ({value[:30]!r}): write it as fixed text"
        )
    return problems


def _contexts(settings: Settings, script: str, locale: str) -> Iterator[dict[str, Any]]:
    """The example data, then variants: no vehicle, each reason alone, an overdue one."""
    context = example_context(script, locale, settings)
    yield context
    if context.get("vehicle") is not None:
        yield {**context, "vehicle": None}
    reasons = example_reasons(settings, locale) if context.get("reasons") else {}
    for reason in reasons.values():
        yield {**context, "reasons": [reason]}
        if "overdue" in reason:
            yield {**context, "reasons": [{**reason, "overdue": True}]}


def sms_scripts(settings: Settings) -> list[tuple[str, str]]:
    """Every (locale, script) SMS script, shipped or the dealership's own."""
    return [(loc, name) for loc, ch, name in template_names(settings) if ch == "sms"]


def check_script(settings: Settings, locale: str, script: str, rules: Rules = ALIYUN) -> Report:
    """Read one SMS script as a template and try it on its example data."""
    template = template_for(settings, locale, script)
    report = Report(template, problems=problems_of(template, rules))
    for context in _contexts(settings, script, locale):
        try:
            body = render(settings, script, locale=locale, channel="sms", **context)
        except (ScriptError, ScriptNotFound) as exc:
            report.problems.append(f"cannot be rendered with its example data: {exc}")
            continue
        values = match(template, body)
        if values is None:
            report.problems.append(
                "its text does not keep one fixed form (a line appears or disappears with the"
                " data): write the optional part inside a line"
            )
            continue
        for name, value in values.items():
            if len(value) > len(report.longest.get(name, "")):
                report.longest[name] = value
            for problem in value_problems(name, value, rules):
                if problem not in report.problems:
                    report.problems.append(problem)
    return report


def check_scripts(
    settings: Settings, locales: tuple[str, ...] | None = None, rules: Rules = ALIYUN
) -> list[Report]:
    """A report for every SMS script (of ``locales``, default all)."""
    return [
        check_script(settings, locale, script, rules)
        for locale, script in sms_scripts(settings)
        if locales is None or locale in locales
    ]


@dataclass(frozen=True)
class Resolved:
    """A text as a registered template: the code, the template and the variables' values."""

    code: str
    template: Template
    values: dict[str, str]


class Registry:
    """The dealership's registered templates (code per script and locale), checked at load.

    Building it refuses, with one line per script, every registered script that cannot be a
    template (see :func:`check_script`) and every code given for a script that does not exist.
    """

    def __init__(
        self,
        settings: Settings,
        codes: dict[str, dict[str, str]],
        where: str,
        rules: Rules = ALIYUN,
    ) -> None:
        self.rules = rules
        known = set(sms_scripts(settings))
        self.entries: list[tuple[str, Template]] = []
        problems = []
        for locale, scripts in codes.items():
            for script, code in scripts.items():
                if (locale, script) not in known:
                    problems.append(f"{where}.{locale}.{script}: no SMS script named {script!r}")
                    continue
                report = check_script(settings, locale, script, rules)
                if report.refused:
                    problems.append(
                        f"script {locale}/{script} cannot be registered as a template: "
                        + "; ".join(report.problems)
                    )
                self.entries.append((code, report.template))
        if problems:
            raise ConfigError("\n".join(problems))

    def resolve(self, body: str) -> Resolved | None:
        """The registered template that reads exactly ``body`` (the most fixed text wins)."""
        best: Resolved | None = None
        for code, template in self.entries:
            values = match(template, body)
            if values is None:
                continue
            if best is None or _fixed(template) > _fixed(best.template):
                best = Resolved(code, template, values)
        return best


def _fixed(template: Template) -> int:
    return len(re.sub(r"\$\{\w+\}", "", template.text))
