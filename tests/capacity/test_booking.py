"""Booking against every limit at its boundary, holds, cancel and reschedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from outreach.capacity import (
    SlotTaken,
    SlotUnavailable,
    UnknownJob,
    book,
    cancel,
    estimate,
    offer_slots,
    release_expired_holds,
    reschedule,
)
from outreach.models import Appointment, CapacityUnit, SlotHold
from outreach.preferences import SlotPreference
from tests.capacity.conftest import NOW, capacity_settings, customer_with_vehicle, local

MON_10 = local("2026-06-01", "10:00")


def _book(session, cap, starts_at=MON_10, jobs=("small",), **kw):
    c, v = customer_with_vehicle(session)
    return book(
        session,
        cap,
        customer_id=c,
        vehicle_id=v,
        jobs=list(jobs),
        starts_at=starts_at,
        now=kw.pop("now", NOW),
        **kw,
    )


def _used(session, key):
    unit = session.get(CapacityUnit, key)
    session.refresh(unit)
    return unit.used


class TestReception:
    def test_two_advisors_receive_two_cars_in_one_interval(self, session, cap):
        """Two advisors with one car each take two arrivals in the same quarter hour."""
        a, b = _book(session, cap), _book(session, cap)
        assert a.advisor_id != b.advisor_id

    def test_third_car_in_an_interval_is_refused(self, session, cap):
        """With every advisor's reception used, the interval is taken."""
        _book(session, cap), _book(session, cap)
        with pytest.raises(SlotTaken, match="just taken"):
            _book(session, cap)

    def test_arrivals_cap_applies_across_advisors(self, session, settings):
        """max_arrivals_per_interval = 1 refuses a second car though an advisor is free."""
        cap = capacity_settings(settings, max_arrivals_per_interval=1)
        _book(session, cap)
        with pytest.raises(SlotTaken, match="arrivals"):
            _book(session, cap)

    def test_one_advisor_receives_one_car_per_interval(self, session, cap):
        """Booking the same advisor twice in one interval is refused."""
        first = _book(session, cap)
        with pytest.raises(SlotTaken, match="reception"):
            _book(session, cap, advisor_id=first.advisor_id)


class TestLabour:
    def test_day_fills_to_exactly_its_bookable_hours(self, session, cap):
        """Two 2-hour jobs fill the 4 bookable hours; a 15-minute job more is refused."""
        _book(session, cap, jobs=["big"])
        _book(session, cap, starts_at=MON_10 + timedelta(hours=1), jobs=["big"])
        assert _used(session, "labour:2026-06-01") == 240
        with pytest.raises(SlotTaken, match="labour"):
            _book(session, cap, starts_at=MON_10 + timedelta(hours=2), jobs=["quick"])

    def test_other_days_are_unaffected(self, session, cap):
        """A full Monday leaves Tuesday bookable."""
        _book(session, cap, jobs=["big", "big"])
        _book(session, cap, starts_at=MON_10 + timedelta(days=1), jobs=["big"])

    def test_absence_reduces_the_day(self, session, settings):
        """Technician absence hours come off the day before the reserved share."""
        cap = capacity_settings(settings, absences={MON_10.date(): 2.5})  # 2.5 h of 5 left: 120 min
        _book(session, cap, jobs=["big"])
        with pytest.raises(SlotTaken):
            _book(session, cap, starts_at=MON_10 + timedelta(hours=1), jobs=["quick"])


class TestReservedShare:
    def test_bot_cannot_use_the_reserved_share(self, session, cap):
        """The 20 % reserve (1 of 5 hours) is not bookable by the bot."""
        _book(session, cap, jobs=["big", "big"])
        with pytest.raises(SlotTaken):
            _book(session, cap, starts_at=MON_10 + timedelta(hours=1), jobs=["small"])

    def test_advisor_can_book_into_the_reserve_up_to_the_full_day(self, session, cap):
        """An advisor booking by hand may use the reserve, but not beyond the technicians' hours."""
        _book(session, cap, jobs=["big", "big"])
        _book(session, cap, starts_at=MON_10 + timedelta(hours=1), jobs=["small"], source="advisor")
        assert _used(session, "labour:2026-06-01") == 300
        with pytest.raises(SlotTaken):
            _book(
                session,
                cap,
                starts_at=MON_10 + timedelta(hours=2),
                jobs=["quick"],
                source="advisor",
            )

    def test_share_zero_makes_every_hour_bookable(self, session, settings):
        """reserved_share = 0 lets the bot book all 5 hours."""
        cap = capacity_settings(settings, reserved_share=0.0)
        _book(session, cap, jobs=["big", "big", "small"])


class TestResource:
    def test_bay_limit_is_its_own(self, session, cap):
        """The alignment bay's 1 hour a day refuses a second alignment while labour is free."""
        _book(session, cap, jobs=["align"])
        with pytest.raises(SlotTaken, match="bay"):
            _book(session, cap, starts_at=MON_10 + timedelta(hours=1), jobs=["align"])
        _book(session, cap, starts_at=MON_10 + timedelta(hours=1), jobs=["small"])


class TestTimeRules:
    def test_exactly_the_lead_time_is_bookable(self, session, cap):
        """A slot exactly min_lead_hours away is bookable, one interval sooner is not."""
        now = MON_10 - timedelta(hours=2)
        _book(session, cap, now=now)
        with pytest.raises(SlotUnavailable, match="too soon"):
            _book(session, cap, starts_at=MON_10 - timedelta(minutes=15), now=now)

    def test_advisor_may_book_inside_the_lead_time(self, session, cap):
        """Booking by hand is not bound by the lead time (the customer is on the phone)."""
        _book(session, cap, now=MON_10 - timedelta(minutes=30), source="advisor")

    def test_off_grid_time_is_refused(self, session, cap):
        """10:05 is not an arrival mark."""
        with pytest.raises(SlotUnavailable, match="15-minute marks"):
            _book(session, cap, starts_at=MON_10 + timedelta(minutes=5))

    def test_closing_time_is_not_an_arrival(self, session, cap):
        """17:00, the closing time, is not an arrival interval."""
        with pytest.raises(SlotUnavailable):
            _book(session, cap, starts_at=local("2026-06-01", "17:00"))

    def test_beyond_horizon_is_refused(self, session, cap):
        """A date past horizon_days is refused for the bot."""
        with pytest.raises(SlotUnavailable, match="horizon"):
            _book(session, cap, starts_at=MON_10 + timedelta(days=15))

    def test_unknown_job_is_refused(self, session, cap):
        """An unknown job code names the known ones."""
        with pytest.raises(UnknownJob, match="known: small"):
            _book(session, cap, jobs=["teleport"])


class TestHolds:
    def _hold(self, session, cap, customer_id, now=NOW, **kw):
        return offer_slots(
            session,
            cap,
            jobs=["big", "big"],
            now=now,
            customer_id=customer_id,
            hold_for="sms",
            limit=1,
            **kw,
        )

    def test_hold_takes_capacity_from_others(self, session, cap):
        """A held slot's labour is not offered or bookable for another customer."""
        c, _ = customer_with_vehicle(session)
        pref = SlotPreference(on=MON_10.date())
        (slot,) = self._hold(session, cap, c, preference=pref)
        assert offer_slots(session, cap, jobs=["quick"], now=NOW, preference=pref) == []
        with pytest.raises(SlotTaken):
            _book(session, cap, starts_at=slot.starts_at + timedelta(hours=1), jobs=["quick"])

    def test_expired_hold_gives_capacity_back(self, session, cap):
        """After the SMS hold time the units return; a minute before they do not."""
        c, _ = customer_with_vehicle(session)
        (slot,) = self._hold(session, cap, c)
        day_key = f"labour:{slot.starts_at.astimezone(cap.tz).date()}"
        assert release_expired_holds(session, NOW + timedelta(minutes=29)) == 0
        assert _used(session, day_key) == 240
        assert release_expired_holds(session, NOW + timedelta(minutes=30)) == 1
        assert _used(session, day_key) == 0
        assert session.get(SlotHold, slot.hold_id).status == "expired"

    def test_voice_hold_is_shorter(self, session, cap):
        """A voice hold ends after 10 minutes."""
        c, _ = customer_with_vehicle(session)
        (slot,) = offer_slots(
            session, cap, jobs=["small"], now=NOW, customer_id=c, hold_for="voice", limit=1
        )
        assert slot.hold_expires_at == NOW + timedelta(minutes=10)

    def test_booking_converts_the_hold_without_double_count(self, session, cap):
        """Booking a held slot converts the hold; the labour is counted once."""
        c, v = customer_with_vehicle(session)
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, customer_id=c, hold_for="sms")
        assert len(slots) == 3
        chosen = slots[0]
        appt = book(
            session,
            cap,
            customer_id=c,
            vehicle_id=v,
            jobs=["small"],
            starts_at=chosen.starts_at,
            now=NOW + timedelta(minutes=5),
            hold_id=chosen.hold_id,
        )
        assert appt.advisor_id == chosen.advisor_id
        assert session.get(SlotHold, chosen.hold_id).status == "converted"
        others = [session.get(SlotHold, s.hold_id).status for s in slots[1:]]
        assert others == ["released", "released"]
        total = session.scalar(
            select(func.sum(CapacityUnit.used)).where(CapacityUnit.kind == "labour")
        )
        assert total == 60

    def test_a_held_slot_keeps_its_notice_when_the_answer_comes_later(self, session, cap):
        """The soonest held slot books 10 minutes later although less than the lead time remains."""
        c, v = customer_with_vehicle(session)
        now = MON_10 - timedelta(hours=2)
        (slot,) = offer_slots(
            session, cap, jobs=["small"], now=now, customer_id=c, hold_for="sms", limit=1
        )
        assert slot.starts_at == MON_10
        appt = book(
            session,
            cap,
            customer_id=c,
            vehicle_id=v,
            jobs=["small"],
            starts_at=slot.starts_at,
            now=now + timedelta(minutes=10),
            hold_id=slot.hold_id,
        )
        assert appt.starts_at == MON_10

    def test_booking_an_expired_hold_succeeds_while_capacity_is_free(self, session, cap):
        """A late confirmation still books when nobody took the place."""
        c, v = customer_with_vehicle(session)
        (slot,) = self._hold(session, cap, c)
        book(
            session,
            cap,
            customer_id=c,
            vehicle_id=v,
            jobs=["big", "big"],
            starts_at=slot.starts_at,
            now=NOW + timedelta(hours=1),
            hold_id=slot.hold_id,
        )

    def test_converted_hold_cannot_book_twice(self, session, cap):
        """A repeated confirmation of the same hold does not make a second appointment."""
        c, v = customer_with_vehicle(session)
        (slot,) = self._hold(session, cap, c)
        kw = dict(
            customer_id=c,
            vehicle_id=v,
            jobs=["big", "big"],
            starts_at=slot.starts_at,
            now=NOW,
            hold_id=slot.hold_id,
        )
        book(session, cap, **kw)
        with pytest.raises(SlotUnavailable, match="already booked"):
            book(session, cap, **kw)


class TestCancelReschedule:
    def test_cancel_gives_capacity_back_at_once(self, session, cap):
        """After cancelling a full day's booking, the same day takes another."""
        appt = _book(session, cap, jobs=["big", "big"])
        cancel(session, cap, appt, NOW)
        assert appt.status == "cancelled"
        _book(session, cap, jobs=["big", "big"])

    def test_cancel_twice_is_refused(self, session, cap):
        """A cancelled appointment cannot be cancelled again (capacity is given back once)."""
        appt = _book(session, cap)
        cancel(session, cap, appt, NOW)
        with pytest.raises(SlotUnavailable, match="cancelled"):
            cancel(session, cap, appt, NOW)
        assert _used(session, "labour:2026-06-01") == 0

    def test_reschedule_moves_the_units(self, session, cap):
        """Rescheduling frees the old interval and day and takes the new ones."""
        appt = _book(session, cap, jobs=["big", "big"])
        tuesday = MON_10 + timedelta(days=1)
        reschedule(session, cap, appt, starts_at=tuesday, now=NOW)
        assert appt.starts_at == tuesday
        assert _used(session, "labour:2026-06-01") == 0
        assert _used(session, "labour:2026-06-02") == 240
        _book(session, cap, jobs=["big", "big"])

    def test_reschedule_within_the_day_reuses_its_own_hours(self, session, cap):
        """Moving a full-day booking later the same day reuses its own hours."""
        appt = _book(session, cap, jobs=["big", "big"])
        reschedule(session, cap, appt, starts_at=MON_10 + timedelta(hours=3), now=NOW)
        assert _used(session, "labour:2026-06-01") == 240

    def test_reschedule_to_a_full_time_keeps_the_appointment(self, session, cap):
        """When the new time is taken the appointment and its units stay where they were."""
        appt = _book(session, cap, jobs=["small"])
        tuesday = MON_10 + timedelta(days=1)
        _book(session, cap, starts_at=tuesday, jobs=["big", "big"])
        with pytest.raises(SlotTaken):
            reschedule(session, cap, appt, starts_at=tuesday, now=NOW)
        session.refresh(appt)
        assert appt.starts_at == MON_10 and appt.status == "booked"
        assert _used(session, "labour:2026-06-01") == 60


class TestRecord:
    def test_jobs_carry_hours_and_price(self, session, cap):
        """AppointmentJob rows quote the configured labour hours and price."""
        appt = _book(session, cap, jobs=["small", "align"])
        rows = session.scalars(select(Appointment).where(Appointment.id == appt.id)).one().jobs
        assert sorted((j.job_code, j.labour_hours, j.price) for j in rows) == [
            ("align", 1.0, 300.0),
            ("small", 1.0, 300.0),
        ]

    def test_estimate_sums_hours_and_price_in_the_locale(self, cap):
        """estimate() totals hours and price and describes the jobs in the customer's language."""
        est = estimate(cap, ["big", "align"], "en")
        assert (est.labour_hours, est.price) == (3.0, 1200.0)
        assert est.descriptions == ("major service", "wheel alignment")
