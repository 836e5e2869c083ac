"""Contact windows: when a message may reach a customer, in the customer's own time zone.

China's rules on commercial messages (daytime only) and the US TCPA (8 am - 9 pm local) are
the references; the default window, 09:00-20:00, is stricter than both.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from outreach.settings import ContactWindow, Settings
from outreach.workdays import HOLIDAY, WEEKEND, WorkCalendar, calendar_for, day_kind

_SEARCH_DAYS = 370  # a window closed for a whole year is a configuration mistake


def public_holidays(settings: Settings) -> WorkCalendar:
    """The working calendar of the dealership's country: its holidays, weekends and make-up
    working days (every year, computed on demand)."""
    return calendar_for(settings.dealership.country)


def next_allowed(
    instant: datetime,
    customer_tz: str | ZoneInfo,
    window: ContactWindow,
    holidays: WorkCalendar | Container[date] = (),
) -> datetime:
    """The first instant at or after ``instant`` inside the window, as aware UTC.

    Days are the customer's local days; weekends and holidays are skipped unless the window
    allows them.  With a :class:`WorkCalendar` a make-up working day (调休上班) is a working day
    and every day of an official break a holiday; with a plain set of holiday dates, Saturday
    and Sunday are the weekend.  Comparisons are made in UTC: Python compares two datetimes of the
    same zone by wall clock, which is wrong across a daylight-saving change.
    """
    if instant.tzinfo is None:
        raise ValueError(f"naive instant {instant!r}: pass a timezone-aware datetime")
    tz = ZoneInfo(customer_tz) if isinstance(customer_tz, str) else customer_tz
    at = instant.astimezone(UTC)
    day = at.astimezone(tz).date()
    for _ in range(_SEARCH_DAYS):
        if day_open(day, window, holidays):
            start = datetime.combine(day, window.start, tzinfo=tz).astimezone(UTC)
            end = datetime.combine(day, window.end, tzinfo=tz).astimezone(UTC)
            if at < start:
                return start
            if at < end:
                return at
        day += timedelta(days=1)
    raise ValueError(f"contact window {window} never opens within {_SEARCH_DAYS} days")


def is_allowed(
    instant: datetime,
    customer_tz: str | ZoneInfo,
    window: ContactWindow,
    holidays: WorkCalendar | Container[date] = (),
) -> bool:
    """Whether ``instant`` lies inside the customer's contact window."""
    return next_allowed(instant, customer_tz, window, holidays) == instant.astimezone(UTC)


def day_open(day: date, window: ContactWindow, holidays: WorkCalendar | Container[date]) -> bool:
    """Whether the window opens at all on the customer's local ``day``."""
    kind = day_kind(day, holidays)
    if kind == WEEKEND:
        return window.weekends
    if kind == HOLIDAY:
        return window.holidays
    return True
