"""Queueing: every outbound SMS and call is written as a row in the caller's transaction."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach.contact_window import next_allowed, public_holidays
from outreach.models import ContactAttempt, Customer, OutboxMessage
from outreach.settings import Settings

# Rows whose template starts with this were queued by escalation: they are dropped if the
# outreach closed (booked, declined, handed off) before the send.
ESCALATION_TEMPLATE = "escalation"
# Rows whose template starts with this were queued by the conversation: when the customer
# wrote or spoke to us within ``reply_minutes``, they are answers (see ``answer_deadline``).
CONVERSATION_TEMPLATE = "conversation:"


def enqueue(
    session: Session,
    settings: Settings,
    *,
    customer: Customer,
    channel: str,
    body: str,
    idempotency_key: str,
    now: datetime,
    template: str | None = None,
    outreach_id: int | None = None,
    not_before: datetime | None = None,
    holidays: Container[date] | None = None,
    answers: datetime | None = None,
) -> OutboxMessage:
    """Queue one SMS or call in the caller's transaction; the same key returns the first row.

    The row waits for the customer's contact window: ``not_before`` is moved to its opening.
    An answer to the customer's own message (``answers``: when it arrived; inferred for the
    conversation's rows) within ``reply_minutes`` does not wait: see :func:`answer_deadline`.
    """
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        return existing
    if holidays is None:
        holidays = public_holidays(settings)
    earliest = max(now, not_before) if not_before else now
    deadline = answer_deadline(session, settings, customer, template, answers, now)
    if deadline is not None and earliest <= deadline:
        at = earliest
    else:
        deadline = None
        at = next_allowed(earliest, customer.timezone, settings.contact_window, holidays)
    row = OutboxMessage(
        customer_id=customer.id,
        outreach_id=outreach_id,
        channel=channel,
        to=customer.phone,
        body=body,
        template=template,
        not_before=at,
        next_attempt_at=at,
        answers_until=deadline,
        status="queued",
        idempotency_key=idempotency_key,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process queued the same key between our look-up and insert.
        existing = _by_key(session, idempotency_key)
        if existing is None:
            raise
        return existing
    return row


def answer_deadline(
    session: Session,
    settings: Settings,
    customer: Customer,
    template: str | None,
    answers: datetime | None,
    now: datetime,
) -> datetime | None:
    """Until when a row may ignore the contact window as an answer to the customer, if at all.

    The customer started this exchange (an SMS, a call, a keypad answer) within
    ``[contact_window] reply_minutes``: what we say back — the written confirmation of a
    booking made on a call at 20:30, say — goes at once, as a person at the desk would
    answer.  Everything the dealership starts (campaigns, confirmations, no-show follow-ups,
    escalation, the SMS that replaces an unanswered call) waits for the window.  For rows the
    conversation queues, the customer's latest inbound contact is the message answered.
    """
    grace = timedelta(minutes=settings.contact_window.reply_minutes)
    if not grace:
        return None
    if answers is None and template and template.startswith(CONVERSATION_TEMPLATE):
        answers = session.scalar(
            select(ContactAttempt.at)
            .where(ContactAttempt.customer_id == customer.id, ContactAttempt.direction == "in")
            .order_by(ContactAttempt.at.desc())
            .limit(1)
        )
    if answers is None or now - answers > grace:
        return None
    return answers + grace


def _by_key(session: Session, key: str) -> OutboxMessage | None:
    query = select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
    return session.scalars(query).one_or_none()


def cancel_pending(
    session: Session,
    *,
    reason: str,
    customer_id: int | None = None,
    outreach_id: int | None = None,
) -> int:
    """Cancel queued rows of a customer or an outreach (a reply arrived, a booking closed it)."""
    query = update(OutboxMessage).where(OutboxMessage.status == "queued")
    if customer_id is not None:
        query = query.where(OutboxMessage.customer_id == customer_id)
    if outreach_id is not None:
        query = query.where(OutboxMessage.outreach_id == outreach_id)
    # "fetch": rows loaded in this session are updated from RETURNING, which is cheaper than
    # evaluating the criteria against every object in the session (the default).
    result = session.execute(
        query.values(status="cancelled", last_error=reason[:500]),
        execution_options={"synchronize_session": "fetch"},
    )
    return result.rowcount  # type: ignore[attr-defined]
