"""Recording what a send did, in a transaction of its own after the send.

The outbox calls back into its surroundings only through :class:`Hooks`, given by the entry
point (CLI, scheduler, web app): it never imports the conversation.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from outreach import delivery
from outreach.callbacks import queue_callback
from outreach.consent import opt_out
from outreach.models import ContactAttempt, Customer, OutboxMessage, Outreach, PendingStatus
from outreach.outbox import breaker
from outreach.outbox.claim import Claim
from outreach.outbox.sending import Outcome
from outreach.pacing import backoff_delay
from outreach.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hooks:
    """What the outbox asks of the rest of the product, handed in by the entry point.

    ``call_unanswered(session, settings, outreach, *, status, answered_by, now, call_sid)``:
    a call's status that arrived before its send was recorded says nobody answered; the
    conversation sends its SMS instead.
    """

    call_unanswered: Callable[..., Any]


def record(
    session: Session,
    settings: Settings,
    claim: Claim,
    outcome: Outcome,
    *,
    now: datetime,
    hooks: Hooks,
    rng: random.Random | None = None,
) -> str:
    """Record a send's outcome in a new transaction; returns the row's new status."""
    row = session.get(OutboxMessage, claim.id, with_for_update=True, populate_existing=True)
    if row is None or row.status != "sending" or row.claimed_at != claim.claimed_at:
        # The lease ran out and recovery settled the row already: never overwrite that.
        log.warning("outbox %s: outcome %s arrived after recovery", claim.id, outcome.kind)
        return row.status if row else "missing"
    error = f"{outcome.kind}: {outcome.error}" if outcome.error else None
    if outcome.kind == "sent":
        return mark_sent(session, settings, row, outcome.sid, outcome.status, now, hooks)
    if outcome.kind == "unreachable":
        # Nothing is known and nothing was learnt: wait for the provider, look up first.
        breaker.failure(session, now, outcome.error or "unreachable")
        wait = backoff_delay(1, settings.sending, rng)
        return finish(
            session,
            row,
            "queued",
            error,
            attempts=row.attempts - 1,  # the provider's outage is not the row's attempt
            claimed_by=None,
            next_attempt_at=now + wait,
            lookup_since=claim.lookup_since or claim.claimed_at,
        )
    _audit(session, row, now, status=outcome.kind, code=outcome.code)
    if outcome.kind == "retryable":
        if row.attempts >= settings.sending.max_attempts:
            return finish(session, row, "failed", f"gave up after {row.attempts} attempts: {error}")
        wait = backoff_delay(row.attempts, settings.sending, rng)
        return finish(session, row, "queued", error, next_attempt_at=now + wait)
    if outcome.kind == "ambiguous":
        # The provider failed the send but answered the look-up: not created.  Resend
        # later, looking up again first (the look-up start stays the earliest send's).
        breaker.failure(session, now, outcome.error or "5xx")
        if row.attempts >= settings.sending.max_attempts:
            hand_off(session, row, "send_unknown", f"gave up: {error}", now)
            return finish(session, row, "handed_off", error)
        wait = backoff_delay(1, settings.sending, rng)
        return finish(
            session,
            row,
            "queued",
            error,
            ambiguous=row.ambiguous + 1,
            next_attempt_at=now + wait,
            lookup_since=claim.lookup_since or claim.claimed_at,
        )
    if outcome.kind == "unknown":
        hand_off(session, row, "send_unknown", error, now)
        return finish(session, row, "handed_off", error)
    if outcome.kind == "opted_out":
        customer = session.get(Customer, row.customer_id)
        assert customer is not None  # noqa: S101 - a foreign key guarantees it
        opt_out(session, customer, source=f"carrier opt-out ({row.channel})", now=now)
        return finish(session, row, "cancelled", error)
    if outcome.kind == "bad_number":
        hand_off(session, row, "bad_number", error, now)
        return finish(session, row, "failed", error)
    return finish(session, row, "failed", error)


def record_sent(
    session: Session,
    settings: Settings,
    sent: Sequence[tuple[Claim, Outcome]],
    *,
    now: datetime,
    hooks: Hooks,
) -> int:
    """Record a group of accepted sends in one transaction; returns how many were recorded.

    The fast path of a healthy sender: a handful of statements for the whole group instead
    of several per row.  A row no longer held by its claim (recovery settled it) is skipped.
    """
    if not sent:
        return 0
    by_id = {claim.id: (claim, outcome) for claim, outcome in sent}
    held = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.claimed_at,
            OutboxMessage.customer_id,
            OutboxMessage.outreach_id,
            OutboxMessage.channel,
            OutboxMessage.template,
            OutboxMessage.body,
        )
        .where(OutboxMessage.id.in_(list(by_id)), OutboxMessage.status == "sending")
        .order_by(OutboxMessage.id)
        .with_for_update()
    ).all()
    mine = [r for r in held if r.claimed_at == by_id[r.id][0].claimed_at]
    for gone in set(by_id) - {r.id for r in mine}:
        log.warning("outbox %s: sent, but recovery had settled the row already", gone)
    if not mine:
        return 0
    sids = [sid for r in mine if (sid := by_id[r.id][1].sid)]
    _lock_sids(session, sids)
    table = OutboxMessage.__table__
    session.connection().execute(
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == bindparam("row_id"))
        .values(status="sent", provider_sid=bindparam("sid"), sent_at=now, lookup_since=None),
        [{"row_id": r.id, "sid": by_id[r.id][1].sid} for r in mine],
    )
    session.execute(
        insert(ContactAttempt),
        [
            {
                "customer_id": r.customer_id,
                "outreach_id": r.outreach_id,
                "at": now,
                "channel": r.channel,
                "direction": "out",
                "kind": (r.template or "outbox")[:40],
                "body": r.body,
                "status": (by_id[r.id][1].status or "sent")[:20],
                "provider_sid": by_id[r.id][1].sid,
            }
            for r in mine
        ],
    )
    outreach_ids = sorted({r.outreach_id for r in mine if r.outreach_id is not None})
    if outreach_ids:
        session.execute(
            update(Outreach).where(Outreach.id.in_(outreach_ids)).values(last_contact_at=now)
        )
    session.flush()
    if sids:
        early = session.scalars(select(PendingStatus.sid).where(PendingStatus.sid.in_(sids)))
        for sid in sorted(set(early)):
            delivery.apply_pending(
                session, settings, sid, now, call_unanswered=hooks.call_unanswered
            )
    return len(mine)


def _lock_sids(session: Session, sids: list[str]) -> None:
    # delivery.lock_sid for many SIDs in one statement (sorted: a fixed lock order).
    if not sids or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(CAST(:space AS integer), hashtext(s)))"
            " FROM unnest(CAST(:sids AS text[])) WITH ORDINALITY AS t(s, n)"
        ),
        {"space": delivery.SID_LOCK_SPACE, "sids": sorted(sids)},
    )


def mark_sent(
    session: Session,
    settings: Settings,
    row: OutboxMessage,
    sid: str | None,
    status: str | None,
    now: datetime,
    hooks: Hooks,
) -> str:
    # Twilio may call back before this transaction commits: such statuses were kept as
    # pending (under the same per-SID lock, taken by apply_pending) and are applied here,
    # after the attempt exists.
    _audit(session, row, now, status=status or "sent", sid=sid)
    finish(session, row, "sent", None, provider_sid=sid, sent_at=now, lookup_since=None)
    if row.outreach_id is not None:
        session.execute(
            update(Outreach).where(Outreach.id == row.outreach_id).values(last_contact_at=now)
        )
    if sid:
        delivery.apply_pending(session, settings, sid, now, call_unanswered=hooks.call_unanswered)
    return "sent"


def finish(
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


def hand_off(
    session: Session, row: OutboxMessage, reason: str, detail: str | None, now: datetime
) -> None:
    """Put the row's customer in the advisors' callback queue: a person decides."""
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
