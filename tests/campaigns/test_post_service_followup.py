"""The follow-up after a visit goes out 2 to 3 days later, once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from outreach.models import Appointment
from tests.campaigns.conftest import due
from tests.factories import make_vehicle, make_visit

NAME = "post_service_followup"


class TestFollowup:
    def test_two_and_three_days_after_the_visit(self, session, settings):
        """A visit on Nov 25 is followed up on Nov 27 and 28, not on 26 or 29."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 11, 25), 30_000, "repair")
        assert due(session, settings, date(2026, 11, 26), NAME) == []
        assert len(due(session, settings, date(2026, 11, 27), NAME)) == 1
        assert len(due(session, settings, date(2026, 11, 28), NAME)) == 1
        assert due(session, settings, date(2026, 11, 29), NAME) == []

    def test_detailing_visits_are_not_followed_up_by_default(self, session, settings):
        """Only the configured visit types get a follow-up call."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 11, 25), None, "detailing")
        assert due(session, settings, date(2026, 11, 27), NAME) == []

    def test_a_booked_next_visit_does_not_block_the_followup(self, session, settings):
        """The customer is asked about the last visit even with the next one booked."""
        v = make_vehicle(session)
        make_visit(session, v, date(2026, 11, 25), 30_000, "maintenance")
        session.add(
            Appointment(
                customer_id=v.customer_id,
                vehicle_id=v.id,
                starts_at=datetime(2027, 2, 1, 1, tzinfo=UTC),
            )
        )
        session.flush()
        assert len(due(session, settings, date(2026, 11, 27), NAME)) == 1
