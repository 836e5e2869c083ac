"""Escalation along the plan: SMS, a call after 48 h, a call after 24 h, then an advisor."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from outreach.escalation import escalate
from outreach.models import CallbackRequest, ContactAttempt, OutboxMessage, Outreach
from outreach.scheduler import REGISTRY, JobContext, build_scheduler
from tests.factories import make_customer
from tests.outbox.conftest import OPEN_NOW, FakeGateway

H = timedelta(hours=1)


def contacted(
    session, *, hours_ago: float = 0, body: str = "您的车该保养了，回复 1 预约"
) -> Outreach:
    customer = make_customer(session)
    at = OPEN_NOW - hours_ago * H
    outreach = Outreach(
        customer_id=customer.id,
        status="open",
        campaign="maintenance_interval",
        planned_on=date(2025, 6, 1),
        last_contact_at=at,
        created_at=at,
    )
    session.add(outreach)
    session.flush()
    session.add(
        ContactAttempt(
            customer_id=customer.id,
            outreach_id=outreach.id,
            at=at,
            channel="sms",
            direction="out",
            kind="offer",
            body=body,
        )
    )
    session.flush()
    return outreach


def sent(session, outreach: Outreach, at) -> None:
    """What the outbox does when the queued contact goes out."""
    row = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.outreach_id == outreach.id, OutboxMessage.status == "queued"
        )
    ).one()
    row.status = "sent"
    outreach.last_contact_at = at
    session.flush()


class TestTiming:
    def test_nothing_before_48_hours(self, session, settings) -> None:
        """An SMS sent 47 hours ago without reply is not escalated yet."""
        contacted(session, hours_ago=47)
        assert escalate(session, settings, OPEN_NOW, holidays=())["voice"] == 0

    def test_call_after_48_hours_repeats_the_offer(self, session, settings) -> None:
        """After 48 h without reply a call is queued with the last offer's text."""
        outreach = contacted(session, hours_ago=48)
        assert escalate(session, settings, OPEN_NOW, holidays=())["voice"] == 1
        row = session.scalars(select(OutboxMessage)).one()
        assert (row.channel, row.body) == ("voice", "您的车该保养了，回复 1 预约")
        assert outreach.step == 2
        note = session.scalars(
            select(ContactAttempt).where(ContactAttempt.kind == "escalation")
        ).one()
        assert note.body.startswith("step 2/4")

    def test_reply_stops_escalation(self, session, settings) -> None:
        """A customer who replied after the last contact is not escalated."""
        outreach = contacted(session, hours_ago=60)
        session.add(
            ContactAttempt(
                customer_id=outreach.customer_id,
                outreach_id=outreach.id,
                at=OPEN_NOW - 50 * H,
                channel="sms",
                direction="in",
                kind="reply",
            )
        )
        assert escalate(session, settings, OPEN_NOW, holidays=()) == {
            "sms": 0,
            "voice": 0,
            "callback": 0,
        }

    def test_whole_plan_ends_with_an_advisor(self, session, settings) -> None:
        """Unanswered twice by phone, the outreach goes to the callback queue."""
        outreach = contacted(session, hours_ago=48)
        now = OPEN_NOW
        escalate(session, settings, now, holidays=())
        sent(session, outreach, now)
        assert escalate(session, settings, now + 23 * H, holidays=())["voice"] == 0
        now += 24 * H
        assert escalate(session, settings, now, holidays=())["voice"] == 1
        sent(session, outreach, now)
        now += 24 * H
        assert escalate(session, settings, now, holidays=())["callback"] == 1
        assert outreach.status == "handed_off"
        assert session.scalar(select(CallbackRequest.reason)) == "unanswered"
        assert escalate(session, settings, now + 100 * H, holidays=())["callback"] == 0

    def test_call_waits_for_the_customer_window(self, session, settings) -> None:
        """A call due at night in the customer's zone is queued for the window's opening."""
        outreach = contacted(session, hours_ago=48)
        outreach.customer.timezone = "America/New_York"  # OPEN_NOW is 22:00 there
        escalate(session, settings, OPEN_NOW, holidays=())
        row = session.scalars(select(OutboxMessage)).one()
        assert row.not_before == OPEN_NOW + 11 * H


class TestScheduler:
    def test_jobs_have_ids_zone_and_policies(self, settings, engine) -> None:
        """The scheduler registers each available job once, coalescing, in the dealership zone."""
        from outreach.db import make_sessionmaker

        ctx = JobContext(settings, make_sessionmaker(engine), FakeGateway)
        scheduler = build_scheduler(ctx)
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert {"dispatch", "escalation", "recovery"} <= set(jobs) <= set(REGISTRY)
        job = jobs["dispatch"]
        assert job.coalesce is True
        assert job.misfire_grace_time == settings.scheduling.misfire_grace_seconds
        assert str(job.trigger.timezone) == settings.dealership.timezone
