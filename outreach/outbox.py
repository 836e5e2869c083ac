"""The outbox: every outbound SMS and call is a row first, then sent at most once.

Life of a row: ``enqueue`` writes it in the caller's transaction ("queued", not before the
customer's contact window opens).  A sender claims a batch ("sending"; PostgreSQL
``FOR UPDATE SKIP LOCKED``, SQLite a conditional UPDATE inside ``BEGIN IMMEDIATE``), and in
that same transaction re-checks consent and the contact window and reserves its send slots.
It sends outside any transaction, then records the provider's SID in a new one.

The crash rule (a sender can die between "claimed" and "recorded"): a row still "sending"
after ``lease_seconds`` is settled by :func:`recover_stuck`, which asks the provider for a
message to the same number with the same body created since the claim.  Found: the row is
marked sent with that SID.  Not found: creation at Twilio is synchronous, so the message was
never created and the row is requeued, once.  If the provider cannot be asked, a call is
involved (calls cannot be looked up), or the row was already requeued once, the row is
"handed_off": an advisor gets a callback request and nothing is resent automatically.
The same rule applies at once when a send ends "ambiguous" (a 5xx or timeout at Twilio):
look up first; a second ambiguous outcome hands the row to a person.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from outreach import delivery as events
from outreach import paths
from outreach.callbacks import queue_callback
from outreach.consent import may_contact, opt_out
from outreach.contact_window import next_allowed, public_holidays
from outreach.db import transaction
from outreach.gateway import Gateway, GatewayError, SendResult
from outreach.models import (
    OUTREACH_OPEN,
    ContactAttempt,
    Customer,
    OutboxMessage,
    Outreach,
)
from outreach.pacing import backoff_delay, reserve_slots
from outreach.settings import Settings

log = logging.getLogger(__name__)

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
    claimed_at: datetime
    attempts: int
    ambiguous: int
    send_at: datetime


def claim_batch(
    session: Session,
    settings: Settings,
    *,
    worker: str,
    now: datetime,
    limit: int | None = None,
    holidays: Container[date] | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` due rows for ``worker`` and reserve their send slots.

    In the same transaction every row is re-checked: an opted-out customer's row is
    cancelled, a row outside the customer's window goes back to wait for its opening.
    """
    limit = limit or settings.sending.batch_size
    if holidays is None:
        holidays = public_holidays(settings)
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
    claimed: list[OutboxMessage] = []
    for row, customer in session.execute(query).all():
        if not may_contact(customer):
            _settle(session, row, "queued", status="cancelled", last_error="customer opted out")
            continue
        if row.template and row.template.startswith(ESCALATION_TEMPLATE) and row.outreach_id:
            outreach = session.get(Outreach, row.outreach_id)
            if outreach is not None and outreach.status not in OUTREACH_OPEN:
                _settle(session, row, "queued", status="cancelled", last_error="outreach closed")
                continue
        answering = row.answers_until is not None and now <= row.answers_until
        opens = next_allowed(now, customer.timezone, settings.contact_window, holidays)
        if opens > now and not answering:
            _settle(session, row, "queued", next_attempt_at=opens)
            continue
        if _settle(
            session,
            row,
            "queued",
            status="sending",
            claimed_by=worker,
            claimed_at=now,
            attempts=row.attempts + 1,
        ):
            claimed.append(row)
    slots = reserve_slots(session, len(claimed), settings.sending.rate_per_second, now)
    return [
        Claim(
            id=r.id,
            customer_id=r.customer_id,
            outreach_id=r.outreach_id,
            channel=r.channel,
            to=r.to,
            body=r.body,
            template=r.template,
            claimed_by=worker,
            claimed_at=now,
            attempts=r.attempts + 1,
            ambiguous=r.ambiguous,
            send_at=slot,
        )
        for r, slot in zip(claimed, slots, strict=True)
    ]


def _settle(session: Session, row: OutboxMessage, expected: str, **values: object) -> bool:
    """Move ``row`` on only if it is still in ``expected`` status (the SQLite claim guard)."""
    query = update(OutboxMessage).where(
        OutboxMessage.id == row.id, OutboxMessage.status == expected
    )
    if expected == "sending":
        query = query.where(OutboxMessage.claimed_at == row.claimed_at)
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Outcome:
    """What happened to one send: ``kind`` is "sent", "unknown" or a GatewayError kind."""

    kind: str
    sid: str | None = None
    status: str | None = None
    error: str | None = None
    code: int | None = None


def answer_url(settings: Settings, outbox_id: int) -> str:
    """Where an outbound call fetches its TwiML: ``/twilio/voice`` naming the outbox row."""
    return paths.url(settings.public_base_url, paths.VOICE, **{paths.OUTBOX_FIELD: outbox_id})


def send(gateway: Gateway, claim: Claim, settings: Settings) -> Outcome:
    """Send one claimed row (no database access); an ambiguous result is looked up at once."""
    base = settings.public_base_url
    try:
        if claim.channel == "voice":
            result = gateway.place_call(
                claim.to,
                answer_url=answer_url(settings, claim.id),
                status_callback=paths.url(base, paths.CALL_STATUS),
            )
        else:
            result = gateway.send_sms(
                claim.to,
                claim.body,
                status_callback=paths.url(base, paths.MESSAGE_STATUS),
                validity_seconds=settings.sending.validity_seconds,
            )
    except GatewayError as exc:
        if exc.kind == "ambiguous":
            return _look_up(gateway, claim, exc)
        return Outcome(exc.kind, error=str(exc), code=exc.code)
    return Outcome("sent", sid=result.sid, status=result.status)


def _look_up(gateway: Gateway, claim: Claim, cause: Exception) -> Outcome:
    found = find_sent(gateway, claim.channel, claim.to, claim.body, claim.claimed_at)
    if isinstance(found, SendResult):
        return Outcome("sent", sid=found.sid, status=found.status)
    if found is None:
        return Outcome("ambiguous", error=f"not found after: {cause}")
    return Outcome("unknown", error=f"{cause}; look-up: {found}")


def find_sent(
    gateway: Gateway, channel: str, to: str, body: str, since: datetime
) -> SendResult | str | None:
    """The provider's record of a send, None if it has none, or why it could not be asked."""
    if channel == "voice":
        return "calls cannot be looked up by content"
    try:
        return gateway.find_sent(to, body, since)
    except Exception as exc:  # any failure to ask means "cannot be asked"
        return f"{type(exc).__name__}: {exc}"


def record(
    session: Session,
    settings: Settings,
    claim: Claim,
    outcome: Outcome,
    *,
    now: datetime,
    rng: random.Random | None = None,
) -> str:
    """Record a send's outcome in a new transaction; returns the row's new status."""
    row = session.get(OutboxMessage, claim.id, with_for_update=True, populate_existing=True)
    if row is None or row.status != "sending" or row.claimed_at != claim.claimed_at:
        # The lease ran out and recovery settled the row already: never overwrite that.
        log.warning("outbox %s: outcome %s arrived after recovery", claim.id, outcome.kind)
        return row.status if row else "missing"
    customer = session.get(Customer, row.customer_id)
    assert customer is not None  # noqa: S101 - a foreign key guarantees it
    error = f"{outcome.kind}: {outcome.error}" if outcome.error else None
    if outcome.kind == "sent":
        return _mark_sent(session, settings, row, outcome.sid, outcome.status, now)
    _audit(session, row, now, status=outcome.kind, code=outcome.code)
    if outcome.kind == "retryable":
        if row.attempts >= settings.sending.max_attempts:
            return _finish(
                session, row, "failed", f"gave up after {row.attempts} attempts: {error}"
            )
        wait = backoff_delay(row.attempts, settings.sending, rng)
        return _finish(session, row, "queued", error, next_attempt_at=now + wait)
    if outcome.kind == "ambiguous":
        ambiguous = row.ambiguous + 1
        if ambiguous >= 2:
            _hand_off(session, row, "send_unknown", f"twice ambiguous: {error}", now)
            return _finish(session, row, "handed_off", error, ambiguous=ambiguous)
        wait = backoff_delay(row.attempts, settings.sending, rng)
        return _finish(
            session, row, "queued", error, ambiguous=ambiguous, next_attempt_at=now + wait
        )
    if outcome.kind == "unknown":
        _hand_off(session, row, "send_unknown", error, now)
        return _finish(session, row, "handed_off", error)
    if outcome.kind == "opted_out":
        opt_out(session, customer, source=f"carrier opt-out ({row.channel})", now=now)
        return _finish(session, row, "cancelled", error)
    if outcome.kind == "bad_number":
        _hand_off(session, row, "bad_number", error, now)
        return _finish(session, row, "failed", error)
    return _finish(session, row, "failed", error)


def _mark_sent(
    session: Session,
    settings: Settings,
    row: OutboxMessage,
    sid: str | None,
    status: str | None,
    now: datetime,
) -> str:
    # Twilio may call back before this transaction commits: such statuses were kept as
    # pending (under the same per-SID lock) and are applied here, after the attempt exists.
    if sid:
        events.lock_sid(session, sid)
    _audit(session, row, now, status=status or "sent", sid=sid)
    _finish(session, row, "sent", None, provider_sid=sid, sent_at=now)
    if row.outreach_id is not None:
        session.execute(
            update(Outreach).where(Outreach.id == row.outreach_id).values(last_contact_at=now)
        )
    if sid:
        events.apply_pending(session, settings, sid, now)
    return "sent"


def _finish(
    session: Session, row: OutboxMessage, status: str, error: str | None, **values: object
) -> str:
    values = {"status": status, **values}
    if error is not None:
        values["last_error"] = error[:2000]
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(row)
    return status


def _audit(
    session: Session,
    row: OutboxMessage,
    now: datetime,
    *,
    status: str,
    sid: str | None = None,
    code: int | None = None,
) -> None:
    session.add(
        ContactAttempt(
            customer_id=row.customer_id,
            outreach_id=row.outreach_id,
            at=now,
            channel=row.channel,
            direction="out",
            kind=(row.template or "outbox")[:40],
            body=row.body,
            status=status[:20],
            provider_sid=sid,
            error_code=str(code) if code is not None else None,
        )
    )


def _hand_off(
    session: Session, row: OutboxMessage, reason: str, detail: str | None, now: datetime
) -> None:
    customer = session.get(Customer, row.customer_id)
    assert customer is not None  # noqa: S101 - a foreign key
    outreach = session.get(Outreach, row.outreach_id) if row.outreach_id is not None else None
    queue_callback(
        session,
        customer=customer,
        reason=reason,
        now=now,
        outreach=outreach,
        detail=f"outbox #{row.id} ({row.channel}): {detail or ''}",
    )


def recover_stuck(
    session: Session, gateway: Gateway, settings: Settings, now: datetime
) -> dict[str, int]:
    """Settle rows left "sending" past the lease by asking the provider (the crash rule)."""
    cutoff = now - timedelta(seconds=settings.sending.lease_seconds)
    stuck = session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < cutoff)
        .order_by(OutboxMessage.id)
    ).all()
    counts = {"sent": 0, "requeued": 0, "handed_off": 0}
    for row_id in stuck:
        row = session.get(OutboxMessage, row_id, with_for_update=True, populate_existing=True)
        if row is None or row.status != "sending" or row.claimed_at is None:
            continue  # settled meanwhile by its sender or another recovery
        found = find_sent(gateway, row.channel, row.to, row.body, row.claimed_at)
        if isinstance(found, SendResult):
            _mark_sent(session, settings, row, found.sid, found.status, now)
            counts["sent"] += 1
        elif found is None and row.recovered == 0:
            _finish(
                session,
                row,
                "queued",
                "recovered: sender stopped before recording; the provider has no such message",
                recovered=row.recovered + 1,
                next_attempt_at=now,
                claimed_by=None,
            )
            counts["requeued"] += 1
        else:
            why = found if isinstance(found, str) else "stuck again after one requeue"
            detail = f"sender stopped mid-send; {why}"
            _hand_off(session, row, "send_unknown", detail, now)
            _finish(session, row, "handed_off", detail)
            counts["handed_off"] += 1
    return counts


@dataclass
class DispatchStats:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def dispatch(
    sessions: sessionmaker[Session],
    gateway: Gateway,
    settings: Settings,
    *,
    worker: str,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    rng: random.Random | None = None,
    max_batches: int | None = None,
) -> DispatchStats:
    """Drain what may be sent now: claim, wait for each slot, send, record; until none is due.

    ``clock`` and ``sleep`` are injected so tests run on a controlled clock without waiting.
    """
    stats = DispatchStats()
    holidays = public_holidays(settings)
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction(sessions) as session:
            claims = claim_batch(session, settings, worker=worker, now=clock(), holidays=holidays)
        if not claims:
            break
        batches += 1
        stats.claimed += len(claims)
        for claim in claims:
            wait = (claim.send_at - clock()).total_seconds()
            if wait > 0:
                sleep(wait)
            outcome = send(gateway, claim, settings)
            with transaction(sessions) as session:
                status = record(session, settings, claim, outcome, now=clock(), rng=rng)
            stats.outcomes[status] = stats.outcomes.get(status, 0) + 1
    return stats
