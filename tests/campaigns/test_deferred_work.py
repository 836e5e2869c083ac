"""Deferred work is followed up when its due-by date comes within the lead window."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.campaigns.conftest import configure, due
from tests.factories import make_item, make_vehicle, make_visit

NAME = "deferred_work"
TODAY = date(2026, 11, 28)


class TestDeferredWork:
    def test_due_when_the_due_by_date_enters_the_lead_window(self, session, settings):
        """With 14 lead days, an item due Dec 12 is selected today and one due Dec 13 is not."""
        v = make_vehicle(session)
        inside = make_item(session, v, date(2026, 12, 12))
        make_item(session, v, date(2026, 12, 13))
        assert [i.deferred_item_id for i in due(session, settings, TODAY, NAME)] == [inside.id]

    def test_overdue_items_stay_due(self, session, settings):
        """An item whose date has passed is still followed up."""
        v = make_vehicle(session)
        make_item(session, v, date(2026, 10, 1))
        assert len(due(session, settings, TODAY, NAME)) == 1

    def test_done_items_are_not_followed_up(self, session, settings):
        """Work that was done is never chased."""
        v = make_vehicle(session)
        make_item(session, v, TODAY, done_at=datetime(2026, 11, 1, tzinfo=UTC))
        assert due(session, settings, TODAY, NAME) == []

    def test_safety_items_come_first(self, session, settings):
        """Safety-relevant items are listed before lower severities, whatever their dates."""
        v = make_vehicle(session)
        low = make_item(session, v, date(2026, 11, 1), severity="low")
        safety = make_item(session, v, date(2026, 12, 1), severity="safety")
        items = due(session, settings, TODAY, NAME)
        assert [i.deferred_item_id for i in items] == [safety.id, low.id]
        assert items[0].priority < items[1].priority

    def test_severities_can_be_narrowed_by_configuration(self, session, settings):
        """A dealership that follows up only safety items gets only those."""
        s = configure(settings, NAME, severities=("safety",))
        v = make_vehicle(session)
        make_item(session, v, TODAY, severity="medium")
        assert due(session, s, TODAY, NAME) == []

    def test_problems_found_during_a_repair_say_so(self, session, settings):
        """A new problem found in a repair is followed up and its reason names its origin."""
        v = make_vehicle(session)
        visit = make_visit(session, v, date(2026, 11, 20), 40_000, "repair")
        make_item(session, v, TODAY, visit_id=visit.id, found_during_repair=True)
        [item] = due(session, settings, TODAY, NAME)
        assert "found during repair" in item.reason
        assert item.facts["visit_on"] == date(2026, 11, 20)
