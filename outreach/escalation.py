"""Escalation: move unanswered outreach along its campaign's plan (SMS, then calls, then a person).

``Outreach.step`` counts the plan steps taken; the first contact counts as step one whoever
made it (the campaign run or the conversation), so escalation never repeats an opener.  A step
is due ``after_hours`` after the previous contact was *sent* (``last_contact_at`` is set when
the outbox records the send), and only if the customer has not replied since.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from outreach.callbacks import queue_callback
from outreach.consent import may_contact
from outreach.contact_window import public_holidays
from outreach.models import OUTREACH_OPEN, ContactAttempt, OutboxMessage, Outreach
from outreach.outbox import ESCALATION_TEMPLATE, cancel_pending, enqueue
from outreach.settings import Settings

OFFER_TEXT_KEY = "offer_text"  # Outreach.context key holding the last offer sent


def escalate(
    session: Session,
    settings: Settings,
    now: datetime,
    holidays: Container[date] | None = None,
) -> dict[str, int]:
    """Take the next due step of every open, unanswered outreach; returns counts per action."""
    if holidays is None:
        holidays = public_holidays(settings)
    counts = {"sms": 0, "voice": 0, "callback": 0}
    open_rows = session.scalars(
        select(Outreach).where(Outreach.status.in_(OUTREACH_OPEN)).order_by(Outreach.id)
    ).all()
    for outreach in open_rows:
        action = _step(session, settings, outreach, now, holidays)
        if action:
            counts[action] += 1
    return counts


def _step(
    session: Session,
    settings: Settings,
    outreach: Outreach,
    now: datetime,
    holidays: Container[date],
) -> str | None:
    plan = settings.escalation_plan(outreach.campaign)
    done = max(outreach.step, 1 if outreach.last_contact_at else 0)
    if done >= len(plan) or not may_contact(outreach.customer):
        return None
    step = plan[done]
    since = outreach.last_contact_at or outreach.opened_at or outreach.created_at
    if now < since + timedelta(hours=step.after_hours):
        return None
    if _replied(session, outreach) or _pending(session, outreach):
        return None
    number = f"step {done + 1}/{len(plan)}"
    if step.action == "callback":
        queue_callback(
            session,
            customer=outreach.customer,
            reason="unanswered",
            now=now,
            outreach=outreach,
            detail=f"no reply after {done} contacts ({outreach.campaign})",
        )
        cancel_pending(session, outreach_id=outreach.id, reason="handed to an advisor")
        outreach.status = "handed_off"
        outreach.outcome = "unanswered: advisor callback"
        _note(session, outreach, now, "desk", f"{number}: advisor callback (unanswered)")
        outreach.step = done + 1
        return "callback"
    assert step.channel is not None  # noqa: S101 - the config parser requires channel or action
    if not may_contact(outreach.customer, step.channel):
        # A way of contact the customer refused ("别打电话"): this step is passed over.
        outreach.step = done + 1
        _note(session, outreach, now, "desk", f"{number}: no {step.channel} (not wanted)")
        return None
    body = offer_text(session, outreach)
    if body is None:
        return None  # nothing was ever offered: the campaign's opener has not been written yet
    row = enqueue(
        session,
        settings,
        customer=outreach.customer,
        channel=step.channel,
        body=body,
        idempotency_key=f"{ESCALATION_TEMPLATE}:{outreach.id}:{done}",
        template=f"{ESCALATION_TEMPLATE}:{step.channel}",
        outreach_id=outreach.id,
        now=now,
        holidays=holidays,
    )
    _note(session, outreach, now, step.channel, f"{number}: {step.channel} at {row.not_before}")
    outreach.step = done + 1
    return step.channel


def offer_text(session: Session, outreach: Outreach) -> str | None:
    """The text to repeat: the offer stored on the outreach, else the last message sent."""
    stored = (outreach.context or {}).get(OFFER_TEXT_KEY)
    if isinstance(stored, str) and stored:
        return stored
    return session.scalars(
        select(ContactAttempt.body)
        .where(
            ContactAttempt.outreach_id == outreach.id,
            ContactAttempt.direction == "out",
            ContactAttempt.body.is_not(None),
        )
        .order_by(ContactAttempt.at.desc(), ContactAttempt.id.desc())
        .limit(1)
    ).first()


def _replied(session: Session, outreach: Outreach) -> bool:
    query = select(ContactAttempt.id).where(
        ContactAttempt.outreach_id == outreach.id, ContactAttempt.direction == "in"
    )
    if outreach.last_contact_at is not None:
        query = query.where(ContactAttempt.at >= outreach.last_contact_at)
    return session.scalar(select(exists(query))) or False


def _pending(session: Session, outreach: Outreach) -> bool:
    query = select(OutboxMessage.id).where(
        OutboxMessage.outreach_id == outreach.id,
        OutboxMessage.status.in_(("queued", "sending")),
    )
    return session.scalar(select(exists(query))) or False


def _note(session: Session, outreach: Outreach, now: datetime, channel: str, body: str) -> None:
    session.add(
        ContactAttempt(
            customer_id=outreach.customer_id,
            outreach_id=outreach.id,
            at=now,
            channel=channel,
            direction="note",
            kind="escalation",
            body=body,
        )
    )
