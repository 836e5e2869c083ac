"""The schema: migrations match the models, and instants come back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from outreach.db import Base, make_engine
from outreach.migrate import upgrade
from outreach.models import Customer, Outreach
from tests.conftest import drop_postgres_schema, postgres_schema_url
from tests.factories import make_customer


class TestMigrations:
    def test_upgrade_creates_what_the_models_describe_on_sqlite(self, tmp_path):
        """Running every migration on SQLite yields exactly the tables the models declare."""
        engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        engine.dispose()
        assert diff == []

    @pytest.mark.postgres
    def test_upgrade_creates_what_the_models_describe_on_postgresql(self):
        """Running every migration on PostgreSQL yields exactly the tables the models declare."""
        url = postgres_schema_url()
        engine = make_engine(url)
        try:
            upgrade(engine)
            with engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        finally:
            engine.dispose()
            drop_postgres_schema(url)
        assert diff == []


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
