"""Contact windows in the customer's own zone, across zones, weekends, holidays and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from outreach.contact_window import is_allowed, next_allowed
from outreach.settings import ContactWindow
from outreach.workdays import calendar_for

WINDOW = ContactWindow(start=time(9), end=time(20), weekends=True, holidays=False)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class TestZones:
    def test_inside_the_window_is_now(self) -> None:
        """An instant inside the customer's window is allowed as it is."""
        at = utc(2025, 6, 4, 2, 0)  # 10:00 in Shanghai
        assert next_allowed(at, "Asia/Shanghai", WINDOW) == at

    def test_before_opening_waits_for_local_nine(self) -> None:
        """Early morning waits for 09:00 local, returned in UTC."""
        at = utc(2025, 6, 3, 23, 0)  # 07:00 in Shanghai
        assert next_allowed(at, "Asia/Shanghai", WINDOW) == utc(2025, 6, 4, 1, 0)

    def test_after_closing_waits_for_tomorrow(self) -> None:
        """At 20:00 the window is closed until 09:00 the next local day."""
        at = utc(2025, 6, 4, 12, 0)  # 20:00 in Shanghai
        assert next_allowed(at, "Asia/Shanghai", WINDOW) == utc(2025, 6, 5, 1, 0)

    def test_same_instant_differs_by_customer_zone(self) -> None:
        """One instant is daytime in Shanghai and night in New York."""
        at = utc(2025, 6, 4, 2, 0)  # 10:00 Shanghai, 22:00 New York (previous day)
        assert is_allowed(at, "Asia/Shanghai", WINDOW)
        assert not is_allowed(at, "America/New_York", WINDOW)
        assert next_allowed(at, "America/New_York", WINDOW) == utc(2025, 6, 4, 13, 0)

    def test_naive_instant_is_refused(self) -> None:
        """A naive datetime is an error, not a guess."""
        with pytest.raises(ValueError, match="naive"):
            next_allowed(datetime(2025, 6, 4, 10), "Asia/Shanghai", WINDOW)  # noqa: DTZ001 - the point of the test


class TestDaylightSaving:
    def test_spring_forward_opens_at_local_nine_edt(self) -> None:
        """On 2025-03-09 New York moves to EDT: 09:00 local is 13:00 UTC, not 14:00."""
        at = utc(2025, 3, 9, 6, 0)  # 01:00 EST, before the change
        assert next_allowed(at, "America/New_York", WINDOW) == utc(2025, 3, 9, 13, 0)

    def test_day_before_spring_forward_opens_at_14_utc(self) -> None:
        """On 2025-03-08 (EST) 09:00 local is 14:00 UTC."""
        assert next_allowed(utc(2025, 3, 8, 6), "America/New_York", WINDOW) == utc(2025, 3, 8, 14)

    def test_fall_back_closes_at_local_eight_pm_est(self) -> None:
        """On 2025-11-02 New York returns to EST: 19:30 local is 00:30 UTC and still open."""
        at = utc(2025, 11, 3, 0, 30)  # 19:30 EST on Nov 2
        assert is_allowed(at, "America/New_York", WINDOW)
        assert not is_allowed(utc(2025, 11, 3, 1, 0), "America/New_York", WINDOW)

    def test_after_close_on_fall_back_day_waits_for_next_morning(self) -> None:
        """After 20:00 EST on the change day the next opening is 09:00 EST = 14:00 UTC."""
        at = utc(2025, 11, 3, 1, 30)
        assert next_allowed(at, "America/New_York", WINDOW) == utc(2025, 11, 3, 14, 0)


class TestDays:
    def test_weekend_skipped_when_not_allowed(self) -> None:
        """Saturday morning waits until Monday 09:00 when weekends are off."""
        window = ContactWindow(weekends=False)
        at = utc(2025, 6, 7, 2, 0)  # Saturday 10:00 in Shanghai
        assert next_allowed(at, "Asia/Shanghai", window) == utc(2025, 6, 9, 1, 0)

    def test_holiday_skipped_when_not_allowed(self) -> None:
        """A public holiday waits for the next working day when holidays are off."""
        at = utc(2025, 10, 1, 2, 0)  # National Day, 10:00 in Shanghai
        holidays = {date(2025, 10, 1), date(2025, 10, 2)}
        assert next_allowed(at, "Asia/Shanghai", WINDOW, holidays) == utc(2025, 10, 3, 1, 0)

    def test_holiday_allowed_when_configured(self) -> None:
        """With holidays allowed, a holiday is a normal day."""
        window = ContactWindow(holidays=True)
        at = utc(2025, 10, 1, 2, 0)
        assert next_allowed(at, "Asia/Shanghai", window, {date(2025, 10, 1)}) == at

    def test_holiday_uses_customer_local_date(self) -> None:
        """The holiday is judged by the customer's local date, not the UTC date."""
        at = utc(2025, 9, 30, 23, 0)  # Oct 1, 07:00 in Shanghai; still Sep 30 in UTC
        got = next_allowed(at, "Asia/Shanghai", WINDOW, {date(2025, 10, 1)})
        assert got == utc(2025, 10, 2, 1, 0)


class TestChinaWorkingCalendar:
    """Around Spring Festival and National Day 2026, with a window closed on weekends."""

    WEEKDAYS_ONLY = ContactWindow(start=time(9), end=time(20), weekends=False, holidays=False)

    def test_make_up_saturday_is_a_contact_day(self) -> None:
        """Saturday 2026-02-14 is worked for Spring Festival: the window opens at 09:00."""
        at = utc(2026, 2, 13, 12, 30)  # Friday 20:30 in Shanghai
        cn = calendar_for("CN")
        assert next_allowed(at, "Asia/Shanghai", self.WEEKDAYS_ONLY, cn) == utc(2026, 2, 14, 1, 0)

    def test_make_up_sunday_is_a_contact_day(self) -> None:
        """Sunday 2026-09-20 is worked for National Day: 10:00 that day is allowed."""
        at = utc(2026, 9, 20, 2, 0)
        assert is_allowed(at, "Asia/Shanghai", self.WEEKDAYS_ONLY, calendar_for("CN"))

    def test_the_whole_spring_festival_break_is_skipped(self) -> None:
        """From the first day of the break (Sunday 02-15) to its last (Monday 02-23), no contact."""
        at = utc(2026, 2, 14, 12, 0)  # Saturday 20:00: the make-up day's window has closed
        cn = calendar_for("CN")
        assert next_allowed(at, "Asia/Shanghai", WINDOW, cn) == utc(2026, 2, 24, 1, 0)

    def test_national_day_weekend_is_a_holiday_even_when_weekends_are_open(self) -> None:
        """Sunday 2026-10-04 is part of the break: a window open on weekends still skips it."""
        at = utc(2026, 10, 4, 2, 0)
        cn = calendar_for("CN")
        assert not is_allowed(at, "Asia/Shanghai", WINDOW, cn)
        assert next_allowed(at, "Asia/Shanghai", WINDOW, cn) == utc(2026, 10, 8, 1, 0)

    def test_make_up_saturday_after_national_day(self) -> None:
        """Saturday 2026-10-10 is a working day; Sunday 10-11 is an ordinary weekend day."""
        cn = calendar_for("CN")
        assert is_allowed(utc(2026, 10, 10, 2, 0), "Asia/Shanghai", self.WEEKDAYS_ONLY, cn)
        assert not is_allowed(utc(2026, 10, 11, 2, 0), "Asia/Shanghai", self.WEEKDAYS_ONLY, cn)
