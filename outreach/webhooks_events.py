"""What Twilio's webhooks do to the database, apart from the conversation itself.

Plain Python + SQLAlchemy (no Flask): handled-once bookkeeping for retried webhooks, delivery
status callbacks on the audit trail, and the advisor hand-off when the bot fails.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.consent import opt_out
from outreach.models import CallbackRequest, ContactAttempt, Customer, Outreach, WebhookEvent

log = logging.getLogger(__name__)

# Delivery order of message and call statuses.  A callback may arrive late or twice: a status
# is applied only if it moves forward, and a final one is never replaced ("delivered" → "read"
# is the one step after a final status).
STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "initiated": 2,
    "sending": 3,
    "ringing": 3,
    "sent": 4,
    "in-progress": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "completed": 5,
    "busy": 5,
    "no-answer": 5,
    "read": 6,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank >= 5)
BAD_NUMBER_CODES = frozenset({30003, 30005, 30006})  # unreachable, unknown, landline/carrier
OPTED_OUT_CODES = frozenset({21610})

FALLBACK = {
    "zh-CN": "抱歉，我们暂时无法自动处理您的回复。服务顾问会尽快给您回电。",
    "en": "Sorry, we could not handle your reply automatically. "
    "An advisor will call you back soon.",
}


def mask(phone: str | None) -> str:
    """A phone number fit for a log line: only its last four digits."""
    return f"…{phone[-4:]}" if phone else "-"


def replay(session: Session, key: str) -> str | None:
    """The answer given the first time ``key`` was handled, or None if it never was."""
    return session.scalar(select(WebhookEvent.answer).where(WebhookEvent.key == key))


def claim(session: Session, key: str, now: datetime) -> WebhookEvent:
    """Insert the handled-once row for ``key`` now, before the effect, in the same transaction.

    A concurrent duplicate blocks on (PostgreSQL) or waits behind (SQLite, BEGIN IMMEDIATE)
    this row's unique key, then fails with IntegrityError or finds it through :func:`replay`.
    """
    event = WebhookEvent(key=key[:120], received_at=now, answer="")
    session.add(event)
    session.flush()
    return event


def _may_replace(current: str | None, new: str) -> bool:
    if current is None or current not in STATUS_RANK:
        return True
    if current in FINAL_STATUSES:
        return current == "delivered" and new == "read"
    return STATUS_RANK.get(new, 0) >= STATUS_RANK[current]


def record_status(
    session: Session,
    *,
    sid: str,
    status: str,
    error_code: int | None,
    now: datetime,
) -> str:
    """Apply a message or call status callback to the attempt with ``sid``; returns what happened.

    A final status is never downgraded.  Carrier codes 30003/30005/30006 put the customer in
    the callback queue as a bad number; 21610 (the recipient unsubscribed) opts them out.
    """
    attempt = session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.provider_sid == sid, ContactAttempt.direction == "out")
        .order_by(ContactAttempt.id.desc())
        .limit(1)
    ).first()
    if attempt is None:
        log.warning("status %s for unknown sid %s: not recorded", status, sid)
        return "unknown sid"
    if not _may_replace(attempt.status, status):
        return f"kept {attempt.status}"
    attempt.status = status[:20]
    if error_code is not None:
        attempt.error_code = str(error_code)
    customer = session.get(Customer, attempt.customer_id)
    if customer is not None and error_code in OPTED_OUT_CODES:
        opt_out(session, customer, source=f"sms: carrier error {error_code}", now=now)
        return "opted out"
    if customer is not None and error_code in BAD_NUMBER_CODES:
        session.add(
            CallbackRequest(
                customer_id=customer.id,
                outreach_id=attempt.outreach_id,
                reason="bad_number",
                priority=30,
                detail=f"{attempt.channel} {sid} {status}: carrier error {error_code}",
                created_at=now,
            )
        )
        return "bad number"
    return status


def queue_for_advisor(
    session: Session, *, phone: str, reason: str, detail: str, now: datetime
) -> CallbackRequest:
    """Put the customer with ``phone`` in the callback queue (a number never seen gets a file)."""
    customer = session.scalars(
        select(Customer).where(Customer.phone == phone).order_by(Customer.id).limit(1)
    ).first()
    if customer is None:
        customer = Customer(external_id=f"inbound:{phone}", name=phone, phone=phone, consent=False)
        session.add(customer)
        session.flush()
    request = CallbackRequest(
        customer_id=customer.id,
        reason=reason[:40],
        priority=20,
        detail=detail[:2000],
        created_at=now,
    )
    session.add(request)
    return request


def locale_for(session: Session, phone: str, default: str) -> str:
    """The customer's language for a message to ``phone``."""
    locale = session.scalar(select(Customer.locale).where(Customer.phone == phone).limit(1))
    return locale if locale in FALLBACK else default if default in FALLBACK else "zh-CN"


def outreach_of(session: Session, sid: str) -> Outreach | None:
    """The outreach a message or call with provider ``sid`` belongs to."""
    outreach_id = session.scalar(
        select(ContactAttempt.outreach_id)
        .where(ContactAttempt.provider_sid == sid, ContactAttempt.direction == "out")
        .order_by(ContactAttempt.id.desc())
        .limit(1)
    )
    return session.get(Outreach, outreach_id) if outreach_id is not None else None
