"""The schema: instants come back timezone-aware, and the constraints the models declare hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from outreach.models import Customer, Outreach
from tests.factories import make_customer


class TestInstants:
    def test_datetimes_round_trip_as_aware_utc(self, session):
        """A timezone-aware instant is stored as UTC and read back aware."""
        shanghai = timezone(timedelta(hours=8))
        c = make_customer(session, opted_out_at=datetime(2026, 3, 1, 9, 30, tzinfo=shanghai))
        session.expire_all()
        got = session.scalar(select(Customer.opted_out_at).where(Customer.id == c.id))
        assert got == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
        assert got.tzinfo is not None

    def test_naive_datetimes_are_refused(self, session):
        """A naive datetime is an error rather than a guess about its zone."""
        with pytest.raises(Exception, match="naive datetime"):
            make_customer(session, opted_out_at=datetime(2026, 3, 1, 9, 30))  # noqa: DTZ001


class TestOneOpenOutreach:
    def test_second_open_outreach_for_a_customer_is_refused(self, session):
        """The database itself refuses a second open outreach for one customer."""
        c = make_customer(session)
        today = datetime(2026, 3, 1, tzinfo=UTC).date()
        session.add(Outreach(customer_id=c.id, campaign="seasonal", planned_on=today))
        session.flush()
        session.add(Outreach(customer_id=c.id, campaign="deferred_work", planned_on=today))
        with pytest.raises(IntegrityError):
            session.flush()
