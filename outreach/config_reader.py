"""Reading the dealership's TOML file: typed access to dotted keys, and no unknown key.

A :class:`ConfigReader` records every key a section's parser asks for, whether the file has it or
the default applies. Those keys *are* the schema: once every section is read, :meth:`check_unknown`
refuses any key of the file nobody asked for and names the nearest valid one, so a typo
(``interval_month``, ``[contact_windw]``) is an error instead of a silent default. The same record
is the effective configuration ``outreach config check`` prints.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALES = ("zh-CN", "en")

_MISSING = object()


class ConfigError(ValueError):
    """A configuration value is missing, unknown, or has the wrong form."""


class ConfigReader:
    """Typed access to dotted keys of a TOML table, with errors that name the key."""

    def __init__(
        self,
        raw: dict[str, Any],
        where: str,
        *,
        prefix: str = "",
        read: dict[str, tuple[Any, bool]] | None = None,
    ) -> None:
        self.raw = raw
        self.where = where
        self.prefix = prefix
        # Every key asked for (full dotted path) -> (effective value, whether the file set it).
        self.read: dict[str, tuple[Any, bool]] = {} if read is None else read

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def get(self, key: str, default: Any = _MISSING) -> Any:
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is _MISSING:
                    raise ConfigError(f"{self.where}: {self.path(key)} is required")
                self.read.setdefault(self.path(key), (default, False))
                return default
            node = node[part]
        self.read[self.path(key)] = (node, True)
        return node

    def table(self, key: str, value: Any) -> ConfigReader:
        """A reader for one table of a list (``key`` like ``capacity.advisors[0]``)."""
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        path = self.path(key)
        self.read.setdefault(path, (value, True))
        return ConfigReader(value, self.where, prefix=path, read=self.read)

    def fail(self, key: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.where}: {self.path(key)} must be {expected}, got {value!r}")

    def text(self, key: str, default: str | None) -> str:
        value = self.get(key, _MISSING if default is None else default)
        if not isinstance(value, str):
            raise self.fail(key, "a string", value)
        return value

    def integer(self, key: str, default: int, *, minimum: int | None = None) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "a whole number", value)
        if minimum is not None and value < minimum:
            raise self.fail(key, f"a whole number >= {minimum}", value)
        return value

    def number(self, key: str, default: float | None, *, minimum: float) -> float:
        value = self.get(key) if default is None else self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.fail(key, f"a number >= {minimum:g}", value)
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.fail(key, "one of " + ", ".join(choices), value)
        return value

    def str_list(self, key: str, default: list[str]) -> list[str]:
        value = self.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "a list of strings", value)
        return value

    def zone(self, key: str, default: str) -> str:
        value = self.text(key, default)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, "an IANA time zone such as 'Asia/Shanghai'", value) from None
        return value

    def clock(self, key: str, default: time) -> time:
        value = self.get(key, default)
        if isinstance(value, time):
            return value
        if isinstance(value, str):
            try:
                return time.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(key, "a time of day 'HH:MM'", value)

    def month_day(self, key: str) -> tuple[int, int]:
        value = self.text(key, None)
        try:
            month, day = (int(x) for x in value.split("-"))
            date(2024, month, day)  # a leap year accepts every real month-day
        except ValueError:
            raise self.fail(key, "a month-day 'MM-DD'", value) from None
        return month, day

    def check_unknown(self) -> None:
        """Refuse a key of the file that no section asked for, naming the nearest valid key."""
        known = set(self.read)
        for path, name, siblings, value in _walk(self.raw, "", known):
            if _has_children(path, known):
                if isinstance(value, dict | list):
                    continue
                raise ConfigError(f"{self.where}: {path} must be a table, got {value!r}")
            if path in known:
                continue
            close = difflib.get_close_matches(name, siblings, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else "valid: " + ", ".join(siblings)
            raise ConfigError(f"{self.where}: unknown key {path} — {hint}")

    def effective(self) -> Iterator[str]:
        """The effective configuration, one ``key = value`` line per key (defaults marked)."""
        for path, (value, from_file) in self.read.items():
            if _has_children(path, self.read) or isinstance(value, dict):
                continue
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                continue
            yield f"{path} = {_toml(value)}" + ("" if from_file else "    # default")


def _has_children(path: str, known: set[str] | dict[str, Any]) -> bool:
    return any(k.startswith((f"{path}.", f"{path}[")) for k in known)


def _walk(node: Any, path: str, known: set[str]) -> Iterator[tuple[str, str, list[str], Any]]:
    """Each key under ``node`` as (path, name, the valid names beside it, value), depth first.

    A table read whole (its keys are names of the dealership's own, like ``capacity.resources``)
    is not descended into: nothing under it was asked for by name.
    """
    if isinstance(node, list):
        for n, item in enumerate(node):
            yield from _walk(item, f"{path}[{n}]", known)
        return
    if not isinstance(node, dict) or (path and path in known and not _has_children(path, known)):
        return
    prefix = f"{path}." if path else ""
    siblings = sorted(
        {k[len(prefix) :].split(".")[0].split("[")[0] for k in known if k.startswith(prefix)}
    )
    for name, value in node.items():
        child = f"{prefix}{name}"
        yield child, name, siblings, value
        if child in known or _has_children(child, known):
            yield from _walk(value, child, known)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
