"""Offering slots: soonest first, levelled across days and through the day, and preferences."""

from __future__ import annotations

import contextlib
import random
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from outreach.capacity import (
    SlotUnavailable,
    book,
    load,
    never_open,
    offer_slots,
    past_horizon,
)
from outreach.capacity.holds import advisor_rows
from outreach.capacity.ledger import SlotTaken
from outreach.capacity.model import calendar, demand
from outreach.capacity.offer import _ranked
from outreach.models import CapacityUnit
from outreach.preferences import SlotPreference
from tests.capacity.conftest import NOW, customer_with_vehicle, local


def _book(session, cap, starts_at, jobs=("small",)):
    c, v = customer_with_vehicle(session)
    return book(
        session, cap, customer_id=c, vehicle_id=v, jobs=list(jobs), starts_at=starts_at, now=NOW
    )


def _local(cap, slot):
    return slot.starts_at.astimezone(cap.tz)


class TestSoonest:
    def test_empty_workshop_offers_the_first_morning(self, session, cap):
        """With nothing booked the first offer is the first interval of the first open day."""
        slots = offer_slots(session, cap, jobs=["small"], now=NOW)
        assert slots[0].starts_at == local("2026-06-01", "09:00")

    def test_offers_respect_the_lead_time(self, session, cap):
        """No offer starts sooner than min_lead_hours after now."""
        now = local("2026-06-01", "10:07")
        slots = offer_slots(session, cap, jobs=["small"], now=now, limit=10)
        assert min(s.starts_at for s in slots) == local("2026-06-01", "12:15")

    def test_offers_stay_within_the_horizon(self, session, cap):
        """No offer is later than horizon_days after today."""
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, limit=100)
        assert max(_local(cap, s).date() for s in slots) <= date(2026, 6, 14)

    def test_full_days_are_not_offered(self, session, cap):
        """A day without the labour for the jobs is skipped."""
        _book(session, cap, local("2026-06-01", "09:00"), jobs=["big", "small"])  # 180 of 240
        slots = offer_slots(session, cap, jobs=["big"], now=NOW, limit=20)
        assert date(2026, 6, 1) not in {_local(cap, s).date() for s in slots}


class TestLevelling:
    def test_busy_day_loses_to_a_quiet_next_day(self, session, cap):
        """A Monday three quarters full is offered after an empty Tuesday."""
        _book(session, cap, local("2026-06-01", "09:00"), jobs=["big", "small"])
        (first,) = offer_slots(session, cap, jobs=["quick"], now=NOW, limit=1)
        assert _local(cap, first).date() == date(2026, 6, 2)

    def test_arrivals_spread_through_the_day(self, session, cap):
        """On a day with an arrival at 09:00, the next offer avoids 09:00 and its neighbours."""
        _book(session, cap, local("2026-06-01", "09:00"), jobs=["quick"])
        pref = SlotPreference(on=date(2026, 6, 1))
        (first,) = offer_slots(session, cap, jobs=["quick"], now=NOW, limit=1, preference=pref)
        assert _local(cap, first).time() >= time(9, 30)

    def test_offers_spread_over_days_and_parts_of_day(self, session, cap):
        """Three offers fall in three different (day, part of day) pairs."""
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, limit=3)
        parts = {(_local(cap, s).date(), _local(cap, s).hour < 12) for s in slots}
        assert len(parts) == 3

    def test_least_loaded_advisor_is_offered(self, session, cap):
        """The advisor with fewer cars that day receives the next one."""
        first = _book(session, cap, local("2026-06-01", "09:00"), jobs=["quick"])
        pref = SlotPreference(on=date(2026, 6, 1))
        (slot,) = offer_slots(session, cap, jobs=["quick"], now=NOW, limit=1, preference=pref)
        assert slot.advisor_id != first.advisor_id


class TestPreference:
    def test_as_early_as_possible_is_the_first_free_times(self, session, cap):
        """ "有没有更早的": the three first free times in order, not the levelled spread; a busy
        first day still comes first."""
        _book(session, cap, local("2026-06-01", "09:00"), jobs=["big", "small"])  # 180 of 240
        pref = SlotPreference(earliest=True)
        slots = offer_slots(session, cap, jobs=["quick"], now=NOW, preference=pref)
        starts = [s.starts_at for s in slots]
        assert starts == sorted(starts) and len(starts) == 3
        assert all(_local(cap, s).date() == date(2026, 6, 1) for s in slots)
        levelled = offer_slots(session, cap, jobs=["quick"], now=NOW, limit=1)
        assert _local(cap, levelled[0]).date() == date(2026, 6, 2)

    def test_past_the_horizon_is_out_of_reach(self, cap):
        """The last day of the horizon is in reach, the next is not; so is a "not before"."""
        last = date(2026, 5, 31) + timedelta(days=cap.capacity.horizon_days)  # today: 31 May
        assert not past_horizon(cap, preference=SlotPreference(on=last), now=NOW)
        assert past_horizon(cap, preference=SlotPreference(on=last + timedelta(days=1)), now=NOW)
        later = SlotPreference(not_before=last + timedelta(days=1))
        assert past_horizon(cap, preference=later, now=NOW)
        assert not past_horizon(cap, preference=SlotPreference(part_of_day="morning"), now=NOW)

    def test_afternoon(self, session, cap):
        """ "Afternoon" offers only local afternoon times."""
        pref = SlotPreference(part_of_day="afternoon")
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, preference=pref)
        assert slots and all(12 <= _local(cap, s).hour < 18 for s in slots)

    def test_weekday(self, session, cap):
        """A weekday preference offers only that weekday."""
        pref = SlotPreference(weekday=3)
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, preference=pref)
        assert slots and all(_local(cap, s).weekday() == 3 for s in slots)

    def test_exact_date_and_time(self, session, cap):
        """ "Wednesday at 14:30" offers 14:30 that day first."""
        pref = SlotPreference(on=date(2026, 6, 3), at=time(14, 30))
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, preference=pref)
        assert slots[0].starts_at == local("2026-06-03", "14:30")
        assert all(abs(s.starts_at - slots[0].starts_at) <= timedelta(hours=1) for s in slots)

    def test_taken_exact_time_offers_the_nearest(self, session, cap):
        """When 14:30 is full the nearest free time that day comes first."""
        for _ in range(2):
            _book(session, cap, local("2026-06-03", "14:30"), jobs=["quick"])
        pref = SlotPreference(on=date(2026, 6, 3), at=time(14, 30))
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, preference=pref)
        assert abs(slots[0].starts_at - local("2026-06-03", "14:30")) == timedelta(minutes=15)

    def test_not_before(self, session, cap):
        """not_before pushes every offer to that date or later."""
        pref = SlotPreference(not_before=date(2026, 6, 10))
        slots = offer_slots(session, cap, jobs=["small"], now=NOW, preference=pref)
        assert slots and min(_local(cap, s).date() for s in slots) == date(2026, 6, 10)

    def test_closed_preferred_day_offers_nothing(self, session, cap):
        """A preferred Saturday (closed) gives no slots, so the caller can ask again."""
        pref = SlotPreference(weekday=5)
        assert offer_slots(session, cap, jobs=["small"], now=NOW, preference=pref) == []


class TestUnitRows:
    def test_a_held_offer_creates_every_row_of_the_days_it_touches(self, session, cap):
        """The first hold on a day creates all of its unit rows at once; the next creates none."""
        c, _ = customer_with_vehicle(session)
        first = offer_slots(
            session, cap, jobs=["small"], now=NOW, customer_id=c, hold_for="sms", limit=1
        )
        day = first[0].starts_at.astimezone(cap.tz).date()
        expected = {u.key for u in calendar(cap).day_units(day)}
        rows = set(session.scalars(select(CapacityUnit.key).where(CapacityUnit.day == day)))
        assert rows == expected
        assert len(expected) == 2 + 32 * 3  # labour, the bay, 32 quarter hours x (arrivals + 2)
        count = session.scalar(select(func.count()).select_from(CapacityUnit))
        offer_slots(session, cap, jobs=["small"], now=NOW, customer_id=c, hold_for="sms", limit=1)
        assert session.scalar(select(func.count()).select_from(CapacityUnit)) == count


class TestReadingAWeekAtATime:
    """The load is read a week at a time; the offer order is the same as reading it all."""

    PREFERENCES = (
        SlotPreference(),
        SlotPreference(part_of_day="afternoon"),
        SlotPreference(weekday=4),
        SlotPreference(not_before=date(2026, 6, 9)),
        SlotPreference(at=time(15, 0)),
    )

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_order_is_that_of_the_whole_horizon(self, session, cap, seed):
        """Under a random load, any chunk size gives the candidates of one whole read."""
        rng = random.Random(seed)
        cal = calendar(cap)
        open_days = [d for d in (date(2026, 6, 1) + timedelta(n) for n in range(15)) if cal.grid(d)]
        for _ in range(40):
            day = rng.choice(open_days[: rng.choice([3, len(open_days)])])  # front-loaded
            start, _ = rng.choice(cal.grid(day))
            with contextlib.suppress(SlotUnavailable, SlotTaken):  # a full day is a full day
                _book(session, cap, start, jobs=rng.choice([("quick",), ("small",), ("big",)]))
        need = demand(cap, ["small"])
        active = set(advisor_rows(session, cap))
        for pref in self.PREFERENCES:
            whole = list(_ranked(session, cal, need, pref, NOW, active, chunk_days=30))
            assert whole, pref
            for chunk in (1, 3, 7):
                lazily = list(_ranked(session, cal, need, pref, NOW, active, chunk_days=chunk))
                assert lazily == whole, (pref, chunk)

    @staticmethod
    def _spans_read(monkeypatch) -> list:
        """The (first, last) days of every load read from now on."""
        spans = []
        real = load.by_day

        def by_day(session, first, last):
            spans.append((first, last))
            return real(session, first, last)

        monkeypatch.setattr(load, "by_day", by_day)
        return spans

    def test_an_offer_in_a_quiet_workshop_reads_one_week(self, session, cap, monkeypatch):
        """Three slots found in the first week: the load of the second is never read."""
        spans = self._spans_read(monkeypatch)
        offer_slots(session, cap, jobs=["small"], now=NOW, limit=3, hold_for="sms")
        assert spans == [(date(2026, 5, 31), date(2026, 6, 6))]  # NOW is Sunday 31 May

    def test_after_a_week_with_nothing_free_the_rest_is_read_at_once(
        self, session, cap, monkeypatch
    ):
        """Nothing at all in the first week (no evening opening): the other days in one read."""
        spans = self._spans_read(monkeypatch)
        pref = SlotPreference(part_of_day="evening")
        assert offer_slots(session, cap, jobs=["small"], now=NOW, preference=pref) == []
        assert spans == [
            (date(2026, 5, 31), date(2026, 6, 6)),
            (date(2026, 6, 7), date(2026, 6, 14)),  # the horizon: 14 days after 31 May
        ]


class TestNeverOpen:
    """Whether nothing could be offered at the preferred time even in an empty workshop."""

    def _never(self, cap, **pref):
        return never_open(cap, jobs=["small"], preference=SlotPreference(**pref), now=NOW)

    def test_closed_day_and_after_hours_are_never_open(self, cap):
        assert self._never(cap, on=date(2026, 6, 7))  # a Sunday
        assert self._never(cap, on=date(2026, 6, 3), at=time(20, 0))

    def test_open_times_are_not_even_when_full(self, session, cap):
        """A time booked out is full, not closed."""
        for hhmm in ("14:00", "14:30", "15:00", "15:30", "16:00") * 2:
            with contextlib.suppress(SlotUnavailable, SlotTaken):
                _book(session, cap, local("2026-06-03", hhmm), jobs=["big"])
        pref = SlotPreference(on=date(2026, 6, 3), at=time(15, 0))
        assert offer_slots(session, cap, jobs=["big"], now=NOW, preference=pref) == []
        assert not self._never(cap, on=date(2026, 6, 3), at=time(15, 0))
        assert not self._never(cap, weekday=2, part_of_day="afternoon")

    def test_beyond_the_horizon_is_out_of_reach_not_closed(self, cap):
        assert not self._never(cap, on=date(2026, 8, 3))
        assert not self._never(cap, on=date(2026, 5, 1))  # past

    def test_today_before_now_is_not_closed(self, cap):
        """Said at noon on an open day, "today at 9" has passed; the workshop opens at 9."""
        noon = local("2026-06-01", "12:00")
        pref = SlotPreference(on=date(2026, 6, 1), at=time(9, 0))
        assert not never_open(cap, jobs=["small"], preference=pref, now=noon)
