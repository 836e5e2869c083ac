"""Day-before confirmations and no-shows."""

from __future__ import annotations

from datetime import date, timedelta

from outreach.campaigns.day_before import record_reminder, select_day_before
from outreach.campaigns.no_show import mark_no_shows
from outreach.capacity import book
from outreach.models import CapacityUnit
from tests.capacity.conftest import NOW, customer_with_vehicle, local


def _book(session, cap, starts_at):
    c, v = customer_with_vehicle(session)
    return book(
        session,
        cap,
        customer_id=c,
        vehicle_id=v,
        jobs=["small"],
        starts_at=starts_at,
        now=NOW,
        source="advisor",
    )


class TestDayBefore:
    def test_selects_tomorrows_local_appointments(self, session, cap):
        """Only appointments on the next local day are selected, including the first interval."""
        early = _book(session, cap, local("2026-06-02", "09:00"))  # 01:00 UTC
        _book(session, cap, local("2026-06-03", "09:00"))
        _book(session, cap, local("2026-06-01", "16:45"))
        assert [a.id for a in select_day_before(session, cap, date(2026, 6, 1))] == [early.id]

    def test_reminder_is_recorded_once(self, session, cap):
        """After recording, the appointment is not selected again and a second record loses."""
        appt = _book(session, cap, local("2026-06-02", "10:00"))
        assert record_reminder(session, appt, NOW) is True
        assert record_reminder(session, appt, NOW) is False
        assert select_day_before(session, cap, date(2026, 6, 1)) == []


class TestNoShow:
    def test_booked_and_not_checked_in_after_its_day_is_a_no_show(self, session, cap):
        """The day after, a booked appointment becomes no_show and is returned for a follow-up."""
        appt = _book(session, cap, local("2026-06-01", "16:45"))
        assert mark_no_shows(session, cap, local("2026-06-01", "23:59")) == []
        assert mark_no_shows(session, cap, local("2026-06-02", "00:00")) == [appt]
        assert appt.status == "no_show"
        assert session.get(CapacityUnit, "labour:2026-06-01").used == 0

    def test_checked_in_is_not_a_no_show(self, session, cap):
        """A checked-in appointment is left alone."""
        appt = _book(session, cap, local("2026-06-01", "10:00"))
        appt.status = "checked_in"
        session.flush()
        assert mark_no_shows(session, cap, local("2026-06-01", "10:00") + timedelta(days=1)) == []
