"""The working calendar: is this a working day in the dealership's country, and why.

The maintained ``holidays`` library is the source.  Where a country moves working days onto
weekends around an official break (China's 调休: Saturday 2026-02-14 and 2026-02-28 are worked
for Spring Festival), the library lists those make-up days (``weekend_workdays``) and the
weekdays given off; a weekend day inside a break (Saturday 2026-02-21) it leaves unnamed.  Here
every day of an official break is a holiday with the break's name, and a make-up day is a
working day.  A "break" is a run of consecutive days off that contains a public holiday; it is
only filled this way in a country that publishes make-up days, so a Saturday before a Monday
holiday elsewhere stays an ordinary weekend.

Every rule that asks "working day?" (the contact window, the workshop's open days) asks here.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import holidays as holidays_lib

WORKING, WEEKEND, HOLIDAY = "working", "weekend", "holiday"
_MAKE_UP_HISTORY_YEARS = 6  # a country that had make-up days in these years publishes them
_SUBSTITUTE_MARKERS = ("substituted from", "调休")  # a weekday given off for a make-up day


@dataclass(frozen=True)
class WorkDay:
    """One day of the working calendar."""

    day: date
    kind: str  # WORKING, WEEKEND or HOLIDAY
    holiday: str | None = None  # the holiday's or break's name, in the country's language
    make_up: bool = False  # a weekend day worked for an official break (调休上班)
    estimated: bool = False  # the year's official schedule is not published yet

    @property
    def working(self) -> bool:
        return self.kind == WORKING

    @property
    def why(self) -> str:
        """The reason in a few words, e.g. 'make-up working day' or 'holiday: 春节'."""
        if self.make_up:
            return "make-up working day"
        if self.kind == HOLIDAY:
            return f"holiday: {self.holiday}"
        return "weekend" if self.kind == WEEKEND else "working day"


class WorkCalendar:
    """The working calendar of one country; ``day in cal`` is True on a holiday."""

    def __init__(self, country: str) -> None:
        self.country = country.upper()

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.day(day).kind == HOLIDAY

    def __repr__(self) -> str:
        return f"WorkCalendar({self.country!r})"

    def day(self, day: date) -> WorkDay:
        """What ``day`` is: a working day, a weekend day or a holiday, and why."""
        return _year(self.country, day.year).get(day) or _plain(day, self.country)

    def is_working_day(self, day: date) -> bool:
        return self.day(day).working

    def days(self, start: date, count: int) -> list[WorkDay]:
        """``count`` consecutive days from ``start``."""
        return [self.day(start + timedelta(days=i)) for i in range(count)]


def calendar_for(country: str) -> WorkCalendar:
    """The working calendar of ``country`` (an ISO code such as "CN")."""
    return WorkCalendar(country)


def day_kind(day: date, holidays: WorkCalendar | Any) -> str:
    """WORKING, WEEKEND or HOLIDAY: from a :class:`WorkCalendar`, or from a plain set of
    holiday dates (then Saturday and Sunday are the weekend)."""
    if isinstance(holidays, WorkCalendar):
        return holidays.day(day).kind
    if day in holidays:
        return HOLIDAY
    return WEEKEND if day.weekday() >= 5 else WORKING


def _plain(day: date, country: str) -> WorkDay:
    weekend = day.weekday() in _library(country, day.year).weekend
    return WorkDay(day, WEEKEND if weekend else WORKING, estimated=_estimated(country, day.year))


@functools.lru_cache(maxsize=16)
def _library(country: str, year: int) -> Any:
    return holidays_lib.country_holidays(country, years=year, language=_language(country))


def _language(country: str) -> str | None:
    cls = getattr(holidays_lib, country, None)
    languages = getattr(cls, "supported_languages", ())
    return "zh_CN" if "zh_CN" in languages else None


def _make_up_days(country: str, year: int) -> frozenset[date]:
    return frozenset(d for d in _library(country, year).weekend_workdays if d.year == year)


@functools.lru_cache(maxsize=16)
def _publishes_make_up_days(country: str, year: int) -> bool:
    years = range(year - _MAKE_UP_HISTORY_YEARS, year + 1)
    return any(_make_up_days(country, y) for y in years)


def _estimated(country: str, year: int) -> bool:
    """The country publishes make-up days, but none are known for ``year`` yet."""
    return _publishes_make_up_days(country, year) and not _make_up_days(country, year)


@functools.lru_cache(maxsize=16)
def _year(country: str, year: int) -> dict[date, WorkDay]:
    """The year's days that are not plain working or weekend days (holidays, make-up days)."""
    # One year either side: a break can straddle New Year.
    span = [year - 1, year, year + 1]
    lib = holidays_lib.country_holidays(country, years=span, language=_language(country))
    make_up = {d for y in span for d in _make_up_days(country, y)}
    estimated = _estimated(country, year)
    named = {d: str(name) for d, name in lib.items()}
    off = {d for d in named}
    if _publishes_make_up_days(country, year):
        off |= _break_weekends(named, make_up, lib.weekend)
    days: dict[date, WorkDay] = {}
    for run in _runs(sorted(off)):
        name = _break_name([named[d] for d in run if d in named])
        for d in run:
            if d.year == year:
                days[d] = WorkDay(d, HOLIDAY, named.get(d, name), estimated=estimated)
    for d in make_up:
        if d.year == year:
            days[d] = WorkDay(d, WORKING, make_up=True, estimated=estimated)
    return days


def _break_weekends(named: dict[date, str], make_up: set[date], weekend: Any) -> set[date]:
    """Weekend days next to a holiday (through other days off): part of the official break."""
    found: set[date] = set()
    for holiday in named:
        for step in (1, -1):
            d = holiday + timedelta(days=step)
            while d.weekday() in weekend and d not in make_up and d not in named:
                found.add(d)
                d += timedelta(days=step)
    return found


def _runs(days: list[date]) -> list[list[date]]:
    runs: list[list[date]] = []
    for d in days:
        if runs and runs[-1][-1] + timedelta(days=1) == d:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _break_name(names: list[str]) -> str:
    """A break is named for its most frequent holiday, not for a day given off in exchange."""
    real = [n for n in names if not any(m in n for m in _SUBSTITUTE_MARKERS)] or names
    return Counter(real).most_common(1)[0][0] if real else ""
