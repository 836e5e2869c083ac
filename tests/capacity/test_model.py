"""The opening calendar and time zones: closed days, holidays, intervals near midnight and DST."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from outreach.capacity import SlotUnavailable, book, day_loads, offer_slots
from outreach.capacity.model import Calendar
from outreach.models import CapacityUnit
from tests.capacity.conftest import NOW, capacity_settings, customer_with_vehicle, local


class TestCalendar:
    def test_public_holiday_is_closed(self, cap):
        """China's National Day is closed through the holidays package."""
        assert Calendar(cap).closed_reason(date(2026, 10, 1)).startswith("holiday")
        assert Calendar(cap).intervals(date(2026, 10, 1)) == []

    def test_holidays_can_be_ignored(self, settings):
        """public_holidays = false keeps the workshop open on a holiday weekday."""
        cap = capacity_settings(settings, public_holidays=False)
        assert Calendar(cap).closed_reason(date(2026, 10, 1)) is None

    def test_closure_is_closed(self, settings):
        """A configured closure date is closed."""
        cap = capacity_settings(settings, closures=frozenset({date(2026, 6, 2)}))
        assert Calendar(cap).closed_reason(date(2026, 6, 2)) == "closure"

    def test_intervals_cover_opening_hours(self, cap):
        """Arrival intervals run from opening to the last 15 minutes before closing."""
        starts = Calendar(cap).intervals(date(2026, 6, 1))
        assert starts[0] == local("2026-06-01", "09:00")
        assert starts[-1] == local("2026-06-01", "16:45")
        assert len(starts) == 32

    def test_dst_day_keeps_the_local_grid(self, settings):
        """On the New York spring-forward day the grid stays on local quarter hours."""
        cap = capacity_settings(
            settings,
            timezone="America/New_York",
            opening_hours={d: (time(1, 0), time(4, 0)) for d in range(7)},
            public_holidays=False,
        )
        starts = Calendar(cap).intervals(date(2026, 3, 8))
        hours = [s.astimezone(cap.tz).strftime("%H:%M") for s in starts]
        assert "01:45" in hours and "03:00" in hours
        assert all(s.astimezone(cap.tz).minute % 15 == 0 for s in starts)


class TestClosedDays:
    def test_booking_on_a_closed_weekday_is_refused(self, session, cap):
        """A Saturday (closed in this workshop) cannot be booked."""
        c, v = customer_with_vehicle(session)
        with pytest.raises(SlotUnavailable, match="closed"):
            book(
                session,
                cap,
                customer_id=c,
                vehicle_id=v,
                jobs=["small"],
                starts_at=local("2026-06-06", "10:00"),
                now=NOW,
            )

    def test_booking_on_a_holiday_is_refused(self, session, cap):
        """The Dragon Boat Festival (a Friday) cannot be booked."""
        c, v = customer_with_vehicle(session)
        with pytest.raises(SlotUnavailable, match="holiday"):
            book(
                session,
                cap,
                customer_id=c,
                vehicle_id=v,
                jobs=["small"],
                starts_at=local("2026-06-19", "10:00"),
                now=local("2026-06-15", "10:00"),
            )

    def test_offers_skip_closed_days_and_holidays(self, session, settings):
        """No offered slot falls on a weekend, a closure or a holiday."""
        cap = capacity_settings(settings, closures=frozenset({date(2026, 6, 16)}))
        now = local("2026-06-14", "12:00")
        slots = offer_slots(session, cap, jobs=["small"], now=now, limit=12)
        days = {s.starts_at.astimezone(cap.tz).date() for s in slots}
        assert days and not days & {date(2026, 6, 16), date(2026, 6, 19), date(2026, 6, 20)}


class TestTimeZones:
    def test_slot_near_midnight_counts_on_its_local_day(self, session, settings):
        """A 23:30 New York arrival (03:30 UTC next day) takes labour from the local day."""
        cap = capacity_settings(
            settings,
            timezone="America/New_York",
            opening_hours={d: (time(20, 0), time(23, 45)) for d in range(7)},
            public_holidays=False,
        )
        c, v = customer_with_vehicle(session)
        starts = local("2026-06-01", "23:30", "America/New_York")
        assert starts.date() == date(2026, 6, 2)
        book(
            session,
            cap,
            customer_id=c,
            vehicle_id=v,
            jobs=["small"],
            starts_at=starts,
            now=local("2026-06-01", "12:00", "America/New_York"),
        )
        labour = session.get(CapacityUnit, "labour:2026-06-01")
        assert labour is not None and labour.used == 60
        loads = {d.day: d for d in day_loads(session, cap, date(2026, 6, 1), 2)}
        assert loads[date(2026, 6, 1)].booked_minutes == 60
        assert loads[date(2026, 6, 2)].booked_minutes == 0

    def test_early_shanghai_slot_is_previous_utc_day(self, session, settings):
        """A 07:00 Shanghai slot (23:00 UTC the day before) is offered on its local day."""
        cap = capacity_settings(
            settings,
            opening_hours={d: (time(7, 0), time(8, 0)) for d in range(5)} | {5: None, 6: None},
        )
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, limit=1)
        assert slots[0].starts_at == local("2026-06-01", "07:00")
        assert slots[0].starts_at.date() == date(2026, 5, 31)

    def test_preferences_are_local_times(self, session, settings):
        """A "morning" preference means the dealership's morning, not UTC's."""
        from outreach.preferences import SlotPreference

        cap = capacity_settings(settings, timezone="America/New_York", public_holidays=False)
        now = local("2026-05-31", "12:00", "America/New_York")
        slots = offer_slots(
            session,
            cap,
            jobs=["small"],
            now=now,
            limit=3,
            preference=SlotPreference(part_of_day="morning"),
        )
        assert slots
        assert all(s.starts_at.astimezone(cap.tz).hour < 12 for s in slots)

    def test_lead_time_counts_across_midnight(self, session, settings):
        """At 23:00 local with a 10.5-hour lead, the first offer is 09:30 next morning."""
        cap = capacity_settings(settings, min_lead_hours=10.5)
        slots = offer_slots(session, cap, jobs=["small"], now=local("2026-05-31", "23:00"), limit=1)
        assert slots[0].starts_at == local("2026-06-01", "09:30")


class TestChinaWorkingCalendar:
    """The workshop (closed on weekends in this configuration) around Spring Festival and
    National Day 2026."""

    def test_make_up_saturday_is_open_with_weekday_hours_and_advisors(self, cap):
        """Saturday 2026-02-14 is worked: 09:00-17:00 like a weekday, both advisors receive."""
        cal = Calendar(cap)
        day = date(2026, 2, 14)
        assert cal.closed_reason(day) is None
        assert cal.intervals(day)[0] == local("2026-02-14", "09:00")
        assert len(cal.advisors_on(day)) == 2

    def test_make_up_sunday_is_open(self, cap):
        """Sunday 2026-09-20 is worked for National Day."""
        assert Calendar(cap).closed_reason(date(2026, 9, 20)) is None

    def test_break_weekend_is_closed_in_a_workshop_open_on_weekends(self, settings):
        """A workshop open every day still closes on Saturday 2026-02-21 (Spring Festival)."""
        every_day = {d: (time(9, 0), time(17, 0)) for d in range(7)}
        cal = Calendar(capacity_settings(settings, opening_hours=every_day))
        assert cal.closed_reason(date(2026, 2, 21)) == "holiday: 春节"
        assert cal.closed_reason(date(2026, 10, 4)) == "holiday: 国庆节"
        assert cal.closed_reason(date(2026, 10, 11)) is None

    def test_offers_before_spring_festival_include_the_make_up_saturday(self, session, cap):
        """Offered on Friday 02-13, the first free times are on the make-up Saturday 02-14."""
        slots = offer_slots(session, cap, jobs=["small"], now=local("2026-02-13", "16:00"), limit=3)
        days = {s.starts_at.astimezone(cap.tz).date() for s in slots}
        assert date(2026, 2, 14) in days
        assert not days & {date(2026, 2, 15) + timedelta(days=i) for i in range(9)}

    def test_booking_the_make_up_sunday_succeeds(self, session, cap):
        """A booking for 10:00 on Sunday 2026-09-20 is accepted."""
        c, v = customer_with_vehicle(session)
        booking = book(
            session,
            cap,
            customer_id=c,
            vehicle_id=v,
            jobs=["small"],
            starts_at=local("2026-09-20", "10:00"),
            now=local("2026-09-18", "10:00"),
        )
        assert booking is not None
