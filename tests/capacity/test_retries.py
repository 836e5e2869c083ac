"""The scheduler's jobs run again after one deadlock or busy database: the work is done once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from outreach.db import make_sessionmaker
from outreach.models import OutboxMessage, Outreach
from outreach.models.capacity import SlotHold
from outreach.scheduler import JobContext, run_job
from tests.capacity.transient import fail_first_unit_update
from tests.outbox.conftest import FakeGateway
from tests.test_jobs import NOW, due_customers


@pytest.mark.parametrize(
    "committing_engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)  # fmt: skip
def test_the_campaign_job_holds_slots_once_after_a_deadlock(committing_engine, settings):
    """The daily campaign whose first hold is a deadlock victim still offers each customer once."""
    sessions = make_sessionmaker(committing_engine)
    with sessions() as session, session.begin():
        due_customers(session, 2)
    ctx = JobContext(settings, sessions, FakeGateway)
    with fail_first_unit_update(committing_engine) as failed:
        run_job("campaigns", ctx, NOW, run_key="retry-test")
    assert len(failed) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Outreach)) == 2
        offers = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "offer"))
        assert len(offers.all()) == 2
        held = session.scalar(select(func.count()).where(SlotHold.status == "held"))
        assert held == 6
