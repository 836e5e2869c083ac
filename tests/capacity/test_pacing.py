"""Campaign pacing: the daily offer budget follows free capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from outreach.capacity import book, cut_to_budget, daily_offer_budget
from outreach.capacity.config import Pacing
from outreach.capacity.pacing import free_places
from outreach.models import Outreach
from tests.capacity.conftest import NOW, capacity_settings, customer_with_vehicle, local

SUNDAY = date(2026, 5, 31)


def _paced(settings, **pacing):
    base = {
        "max_offers_per_day": 40,
        "days": 7,
        "offers_per_free_place": 1.0,
        "typical_visit_hours": 1.0,
    }
    return capacity_settings(settings, pacing=Pacing(**(base | pacing)))


class TestBudget:
    def test_free_places_are_bounded_by_labour(self, session, settings):
        """Five open weekdays of 240 bookable minutes hold 20 one-hour visits."""
        assert free_places(session, _paced(settings), SUNDAY, NOW) == 20

    def test_budget_spreads_free_places_over_the_window(self, session, settings):
        """20 free places over 7 days allow 2 offers today."""
        assert daily_offer_budget(session, _paced(settings), SUNDAY, NOW) == 2

    def test_booking_reduces_the_budget(self, session, settings):
        """Bookings use places: with 12 of 20 left the budget drops to 1."""
        cap = _paced(settings)
        for day in ("2026-06-01", "2026-06-02"):
            c, v = customer_with_vehicle(session)
            book(
                session,
                cap,
                customer_id=c,
                vehicle_id=v,
                jobs=["big", "big"],
                starts_at=local(day, "09:00"),
                now=NOW,
            )
        assert free_places(session, cap, SUNDAY, NOW) == 12
        assert daily_offer_budget(session, cap, SUNDAY, NOW) == 1

    def test_offers_opened_today_count_against_the_budget(self, session, settings):
        """An outreach opened today uses one of today's offers."""
        cap = _paced(settings, offers_per_free_place=2.0)
        assert daily_offer_budget(session, cap, SUNDAY, NOW) == 5
        c, v = customer_with_vehicle(session)
        session.add(
            Outreach(
                customer_id=c,
                vehicle_id=v,
                status="open",
                campaign="x",
                planned_on=SUNDAY,
                opened_at=NOW,
            )
        )
        session.flush()
        assert daily_offer_budget(session, cap, SUNDAY, NOW) == 4

    def test_budget_never_exceeds_the_daily_maximum(self, session, settings):
        """max_offers_per_day caps the budget."""
        cap = _paced(settings, offers_per_free_place=10.0, max_offers_per_day=3)
        assert daily_offer_budget(session, cap, SUNDAY, NOW) == 3


@dataclass
class _Due:
    name: str
    due_on: date
    priority: int = 0


class TestCut:
    def test_earliest_due_go_first_and_the_rest_wait(self):
        """cut_to_budget sends the earliest due items and keeps the rest in due-date order."""
        items = [
            _Due("c", date(2026, 6, 3)),
            _Due("a", date(2026, 6, 1), 1),
            _Due("b", date(2026, 6, 1), 0),
            _Due("d", date(2026, 6, 9)),
        ]
        send, wait = cut_to_budget(items, 2)
        assert [i.name for i in send] == ["b", "a"]
        assert [i.name for i in wait] == ["c", "d"]
