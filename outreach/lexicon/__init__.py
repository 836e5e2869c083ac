"""The words customers use, per locale, as data (``zh-CN.toml``, ``en.toml``).

Every word list exists once, here: the understanding, the date parser and the scripts' labels
read it.  Both locales are read together when understanding a reply (customers mix them);
labels are read per locale.  The files are loaded once, on first use.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any

LOCALES = ("zh-CN", "en")
_HERE = Path(__file__).parent


class LexiconError(ValueError):
    """A lexicon file that cannot be read, or a pattern in it that does not compile."""


@functools.cache
def data(locale: str) -> dict[str, Any]:
    """The parsed lexicon of one locale."""
    path = _HERE / f"{locale}.toml"
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LexiconError(f"{path.name}: {exc}") from None


def words(name: str) -> tuple[str, ...]:
    """The entries of ``[words].name`` in every locale (patterns over the normalised text)."""
    return tuple(w for locale in LOCALES for w in data(locale)["words"].get(name, []))


@functools.cache
def pattern(name: str) -> re.Pattern[str]:
    """One pattern matching any entry of ``[words].name`` in any locale."""
    entries = words(name)
    if not entries:
        raise LexiconError(f"no word list named {name!r}")
    return _compile(name, "|".join(f"(?:{w})" for w in entries))


@functools.cache
def table(name: str) -> dict[str, Any]:
    """The ``[name]`` table of every locale merged (a word → its meaning)."""
    merged: dict[str, Any] = {}
    for locale in LOCALES:
        merged.update(data(locale).get(name, {}))
    return merged


def label(name: str, code: str, locale: str) -> str:
    """How the scripts write ``code`` of table ``name`` in ``locale``: "代步车"."""
    return str(data("zh-CN" if locale.startswith("zh") else "en")[name][code])


def labels(name: str, locale: str) -> dict[str, str]:
    """The whole ``[name]`` table of one locale (codes → labels), in file order."""
    return dict(data("zh-CN" if locale.startswith("zh") else "en")[name])


def names(name: str, locale: str, key: str = "names") -> tuple[str, ...]:
    """A list of display names (``weekday_names``, ``month_names``) in one locale."""
    return tuple(data("zh-CN" if locale.startswith("zh") else "en")[name][key])


@functools.cache
def grouped(name: str) -> dict[str, re.Pattern[str]]:
    """``[name]`` as code → one pattern over both locales (``service_words``, ``need_words``),
    in the order the Chinese file lists the codes."""
    codes: dict[str, list[str]] = {}
    for locale in LOCALES:
        for code, entries in data(locale).get(name, {}).items():
            codes.setdefault(code, []).extend(entries)
    return {
        code: _compile(f"{name}.{code}", "|".join(f"(?:{w})" for w in entries))
        for code, entries in codes.items()
    }


@functools.cache
def number_words() -> dict[str, int]:
    """Every number word of every locale → its value."""
    return {str(k): int(v) for k, v in table("numbers").items()}


def _compile(name: str, source: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as exc:
        raise LexiconError(f"lexicon {name}: {exc}") from None
