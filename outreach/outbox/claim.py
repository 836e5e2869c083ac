"""Claiming: a sender takes due rows and their send slots in one transaction.

The lease of a claimed row runs from its batch's first send slot (``claimed_at``), not
from the moment of the claim, and a claimer starts no send later than :func:`send_by`
(half the lease after that slot).  Recovery touches only rows whose lease has run out
(``claimed_at + lease_seconds``).  So a row waiting for its slot is never recoverable by
another sender, however many senders there are and however slow the pacing: this is the
outbox's exactly-once invariant (docs/operations.md).  A sender also claims only slots
that begin within :func:`claim_horizon`, so rows do not sit claimed far ahead of time.

The contact window is checked at each row's own slot: a row whose window closes before
its slot goes back to wait for the next opening, and the sender checks again at the
moment of sending (see ``outbox.loop``).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from outreach.consent import may_contact
from outreach.contact_window import next_allowed, public_holidays
from outreach.models import OUTREACH_OPEN, Customer, OutboxMessage, Outreach
from outreach.outbox import breaker
from outreach.outbox.queue import ESCALATION_TEMPLATE
from outreach.pacing import next_free_slot, take_slots_until
from outreach.settings import Sending, Settings


@dataclass(frozen=True)
class Claim:
    """What a sender needs to send one claimed row outside the database transaction."""

    id: int
    customer_id: int
    outreach_id: int | None
    channel: str
    to: str
    body: str
    template: str | None
    claimed_by: str
    claimed_at: datetime  # the batch's first send slot: the lease runs from here
    attempts: int
    ambiguous: int
    send_at: datetime  # this row's own slot
    timezone: str = "UTC"
    answers_until: datetime | None = None
    lookup_since: datetime | None = None  # an earlier send may have happened: look it up


@dataclass(frozen=True)
class Batch:
    """A claim's result: the rows, or when to come back if pacing or the breaker holds."""

    claims: list[Claim]
    resume_at: datetime | None = None  # something is due, but may not be claimed before this
    settled: int = 0  # rows looked at and moved on without a claim (opted out, window closed)
    gate: breaker.Gate = field(default_factory=breaker.Gate)


def claim_horizon(sending: Sending) -> timedelta:
    """How far ahead of now a claim may reserve send slots: a quarter of the lease at most."""
    batch_span = 2 * sending.batch_size / sending.rate_per_second
    return timedelta(seconds=min(sending.lease_seconds / 4, max(batch_span, 1.0)))


def send_by(claim: Claim, sending: Sending) -> datetime:
    """The latest moment the claimer may start sending ``claim``: half its lease."""
    return claim.claimed_at + timedelta(seconds=sending.lease_seconds / 2)


def claim_batch(
    session: Session,
    settings: Settings,
    *,
    worker: str,
    now: datetime,
    limit: int | None = None,
    holidays: Container[date] | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` due rows for ``worker`` and reserve their send slots."""
    batch = take_batch(session, settings, worker=worker, now=now, limit=limit, holidays=holidays)
    return batch.claims


def take_batch(
    session: Session,
    settings: Settings,
    *,
    worker: str,
    now: datetime,
    limit: int | None = None,
    holidays: Container[date] | None = None,
) -> Batch:
    """Claim due rows with slots inside the horizon, unless the provider's breaker is open.

    In the same transaction every row is re-checked: an opted-out customer's row is
    cancelled, an escalation whose outreach closed is dropped, and a row whose contact
    window is closed at its slot goes back to wait for the window's next opening.
    """
    sending = settings.sending
    limit = limit or sending.batch_size
    if holidays is None:
        holidays = public_holidays(settings)
    gap = timedelta(seconds=1 / sending.rate_per_second)
    start = next_free_slot(session, now)
    horizon = claim_horizon(sending)
    room = int((now + horizon - start) / gap)
    if room <= 0:
        return _waiting(session, now, start - horizon + gap * min(limit, 10))
    gate = breaker.gate(session, now)
    if gate.until is not None:
        return _waiting(session, now, gate.until, gate)
    limit = 1 if gate.probing else min(limit, room)
    query = (
        select(OutboxMessage, Customer)
        .join(Customer, Customer.id == OutboxMessage.customer_id)
        .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    claims: list[Claim] = []
    slot = start
    rows = session.execute(query).all()
    for row, customer in rows:
        if not may_contact(customer):
            _settle(session, row.id, status="cancelled", last_error="customer opted out")
            continue
        if row.answers_until is None and not may_contact(customer, row.channel):
            # "别打电话，短信联系就行": never by the way they refused (an answer to their own
            # message still goes back the way it came)
            refused = f"the customer keeps to {customer.only_channel}"
            _settle(session, row.id, status="cancelled", last_error=refused)
            continue
        if row.template and row.template.startswith(ESCALATION_TEMPLATE) and row.outreach_id:
            outreach = session.get(Outreach, row.outreach_id)
            if outreach is not None and outreach.status not in OUTREACH_OPEN:
                _settle(session, row.id, status="cancelled", last_error="outreach closed")
                continue
        answering = row.answers_until is not None and slot <= row.answers_until
        opens = next_allowed(slot, customer.timezone, settings.contact_window, holidays)
        if opens > slot and not answering:
            _settle(session, row.id, next_attempt_at=opens)
            continue
        claims.append(
            Claim(
                id=row.id,
                customer_id=row.customer_id,
                outreach_id=row.outreach_id,
                channel=row.channel,
                to=row.to,
                body=row.body,
                template=row.template,
                claimed_by=worker,
                claimed_at=start,
                attempts=row.attempts + 1,
                ambiguous=row.ambiguous,
                send_at=slot,
                timezone=customer.timezone,
                answers_until=row.answers_until,
                lookup_since=row.lookup_since,
            )
        )
        slot += gap
    if claims:
        # One statement for the whole batch: the rows are locked (PostgreSQL) or the
        # database is (SQLite's BEGIN IMMEDIATE), so the "queued" guard cannot miss.
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([c.id for c in claims]), OutboxMessage.status == "queued")
            .values(
                status="sending",
                claimed_by=worker,
                claimed_at=start,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        take_slots_until(session, slot)
    return Batch(claims, gate=gate, settled=len(rows) - len(claims))


def _waiting(
    session: Session, now: datetime, until: datetime, gate: breaker.Gate | None = None
) -> Batch:
    due = session.scalar(
        select(
            exists().where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
        )
    )
    return Batch([], resume_at=max(until, now) if due else None, gate=gate or breaker.Gate())


def _settle(session: Session, row_id: int, **values: object) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == "queued")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def release(
    session: Session, claim: Claim, *, next_attempt_at: datetime, reason: str, counted: bool = False
) -> bool:
    """Give a claimed row back unsent (its slot passed, its window closed, the breaker opened).

    Only while the claim still holds (same ``claimed_at``); the attempt is not counted
    unless ``counted``.  The look-up start of an earlier unresolved send is kept.
    """
    values: dict[str, object] = {
        "status": "queued",
        "next_attempt_at": next_attempt_at,
        "claimed_by": None,
        "last_error": reason[:2000],
    }
    if not counted:
        values["attempts"] = OutboxMessage.attempts - 1
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == claim.id,
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_at == claim.claimed_at,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
