"""Reading one CSV cell into a value; every failure names the column and what was expected."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from outreach.models import SEVERITIES, VISIT_TYPES

T = TypeVar("T")
_REQUIRED: Any = object()

TRUE = frozenset({"yes", "y", "true", "1", "是"})
FALSE = frozenset({"no", "n", "false", "0", "否"})
LOCALES = {
    "zh-cn": "zh-CN",
    "zh_cn": "zh-CN",
    "zh": "zh-CN",
    "cn": "zh-CN",
    "en": "en",
    "en_us": "en",
    "en-us": "en",
    "en_gb": "en",
    "en-gb": "en",
}
CHANNELS = ("sms", "voice")
_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
# Days a DMS export can mean; outside them a date is a typo (and 0001-01-01 in a far zone
# does not even convert to UTC).
FIRST_YEAR, LAST_YEAR = 1900, 2999
ODOMETER_MAX_KM = 2_000_000  # no car has run further; beyond it the cell is a typo


class CellError(ValueError):
    """A cell that cannot be used; the row is rejected."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class Cells:
    """One row's cells by column name; absent columns read as empty."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def raw(self, column: str) -> str:
        return self.values.get(column, "")

    def text(self, column: str, max_len: int | None = None, *, required: bool = True) -> str:
        value = self.raw(column)
        if not value and required:
            raise CellError(column, "required value is empty")
        if max_len is not None and len(value) > max_len:
            raise CellError(column, f"longer than {max_len} characters")
        return value

    def parse(self, column: str, parser: Callable[[str], T], default: Any = _REQUIRED) -> T:
        """``parser(cell)``; an empty cell gives ``default`` (or is an error when there is none)."""
        value = self.raw(column)
        if not value:
            if default is _REQUIRED:
                raise CellError(column, "required value is empty")
            return default
        try:
            return parser(value)
        except (ValueError, OverflowError) as exc:
            raise CellError(column, str(exc)) from None


def flag(value: str) -> bool:
    folded = value.lower()
    if folded in TRUE:
        return True
    if folded in FALSE:
        return False
    raise ValueError(f"not yes/no: {value!r}")


def day(value: str) -> date:
    """An ISO date ``YYYY-MM-DD``; ``YYYY/MM/DD`` is accepted too."""
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        on = date(*(int(part) for part in match.groups()))
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None
    return _in_range(on)


def _in_range(on: date) -> date:
    if not FIRST_YEAR <= on.year <= LAST_YEAR:
        raise ValueError(f"{on} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return on


def instant(zone: str) -> Callable[[str], datetime]:
    """A parser of a date or ISO date-time; without an offset it is local time in ``zone``."""

    def parse(value: str) -> datetime:
        try:
            at = datetime.fromisoformat(value.replace("/", "-"))
        except ValueError:
            raise ValueError(f"not a date or date-time (YYYY-MM-DD[THH:MM]): {value!r}") from None
        _in_range(at.date())
        if at.tzinfo is None:
            at = at.replace(tzinfo=ZoneInfo(zone))
        return at.astimezone(UTC)

    return parse


def start_of_day(on: date, zone: str) -> datetime:
    return datetime.combine(on, time(0), ZoneInfo(zone)).astimezone(UTC)


def whole(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value.replace(",", ""))
        except ValueError:
            raise ValueError(f"not a whole number: {value!r}") from None
        if minimum is not None and number < minimum:
            raise ValueError(f"{number} is below {minimum}")
        if maximum is not None and number > maximum:
            raise ValueError(f"{number} is above {maximum}")
        return number

    return parse


def odometer(value: str) -> int:
    km = whole()(value)
    if km < 0:
        raise ValueError(f"negative odometer: {km}")
    if km > ODOMETER_MAX_KM:
        raise ValueError(f"{km} km is above {ODOMETER_MAX_KM:,} km")
    return km


def phone(region: str) -> Callable[[str], str]:
    """A parser to E.164; numbers without ``+country`` are read as ``region``'s."""

    def parse(value: str) -> str:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValueError(f"not a valid phone number: {value!r}")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return parse


def locale(value: str) -> str:
    try:
        return LOCALES[value.lower()]
    except KeyError:
        raise ValueError(f"unknown locale {value!r}; expected zh-CN or en") from None


def choice(noun: str, choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        folded = value.lower()
        if folded not in choices:
            raise ValueError(f"unknown {noun} {value!r}; expected one of {', '.join(choices)}")
        return folded

    return parse


channel = choice("channel", CHANNELS)
visit_type = choice("visit type", VISIT_TYPES)
severity = choice("severity", SEVERITIES)


@lru_cache(maxsize=256)
def zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; expected e.g. Asia/Shanghai") from None
    return value
