"""What a provider's status callback means for a message or call we sent.

A status moves the attempt forward (never back), acts on the carrier's error codes (a bad
number goes to an advisor, an unsubscribed recipient is opted out) and, for a call nobody
answered, is what makes the offer go out by SMS instead.  A status for a SID not recorded yet
waits as a :class:`PendingStatus` until the outbox records the SID.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, delete, func, literal, select
from sqlalchemy.orm import Session

from outreach.callbacks import queue_callback
from outreach.consent import opt_out
from outreach.models import ContactAttempt, Customer, Outreach, PendingStatus
from outreach.settings import Settings
from outreach.twilio_gateway import OPTED_OUT_CODES

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
# Carrier codes on a delivery status: unreachable, unknown number, landline or carrier refused.
BAD_NUMBER_CODES = frozenset({30003, 30005, 30006})
# Call statuses after which the offer goes out by SMS instead.
UNANSWERED_STATUSES = frozenset({"busy", "no-answer", "failed", "canceled"})
# Status callbacks for SIDs never recorded (e.g. replies sent by a Messaging Service with its
# own callback URL) are kept this long; any SID of ours is recorded within the send lease.
PENDING_KEPT = timedelta(days=1)
# What a status callback's fields may hold.  Anything else (control characters, a status that
# is not a word, an error code that is not a number an int column holds) is recorded as
# unknown, never refused: the callback is still the provider's word that something happened.
UNKNOWN = "unknown"
_STATUS_WORD = re.compile(r"[a-z][a-z_-]{0,19}")  # fits ContactAttempt/PendingStatus.status
_ANSWERED_BY_WORD = re.compile(r"[a-z][a-z_-]{0,39}")  # fits PendingStatus.answered_by
_ERROR_CODE = re.compile(r"[0-9]{1,10}")  # ASCII digits only: "²".isdigit() is True
ERROR_CODE_MAX = 2**31 - 1  # PendingStatus.error_code is an INTEGER
UNREADABLE_CODE = -1  # an ErrorCode was given but cannot be read; stored as "unknown"
# The first key of the PostgreSQL advisory locks taken per provider SID (see lock_sid).
SID_LOCK_SPACE = 0x5E17


def answered_by_machine(answered_by: str | None) -> bool:
    """Whether answering-machine detection says a machine (or a fax) took the call."""
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")  # type: ignore[union-attr]


def unanswered(status: str | None, answered_by: str | None) -> bool:
    """Whether a call status means nobody took the call (busy, no answer, a machine)."""
    return (status or "") in UNANSWERED_STATUSES or answered_by_machine(answered_by)


def callback_status(value: str) -> str:
    """A status callback's status, lower case; :data:`UNKNOWN` when it is not a status word."""
    folded = value.strip().lower()
    return folded if _STATUS_WORD.fullmatch(folded) else UNKNOWN


def callback_error_code(value: str | None) -> int | None:
    """A callback's ErrorCode: None when absent or empty, :data:`UNREADABLE_CODE` when junk."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _ERROR_CODE.fullmatch(text) or int(text) > ERROR_CODE_MAX:
        return UNREADABLE_CODE
    return int(text)


def callback_answered_by(value: str | None) -> str | None:
    """A call's AnsweredBy (``human``, ``machine_start`` …); :data:`UNKNOWN` when junk."""
    if value is None or not value.strip():
        return None
    folded = value.strip().lower()
    return folded if _ANSWERED_BY_WORD.fullmatch(folded) else UNKNOWN


def _may_replace(current: str | None, new: str) -> bool:
    if current is None or current not in STATUS_RANK:
        return True
    if current in FINAL_STATUSES:
        return current == "delivered" and new == "read"
    return STATUS_RANK.get(new, 0) >= STATUS_RANK[current]


def lock_sid(session: Session, sid: str) -> None:
    """Serialize, until commit, the transactions that record or look up provider ``sid``.

    The outbox's record and an early status callback for the same SID must not pass each
    other: under PostgreSQL's READ COMMITTED each could miss the other's uncommitted row
    (the callback no attempt, the record no pending status) and the status would be lost.
    SQLite needs nothing: every transaction there is BEGIN IMMEDIATE, one at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        space = cast(literal(SID_LOCK_SPACE), Integer)
        session.execute(select(func.pg_advisory_xact_lock(space, func.hashtext(sid))))


def record_status(
    session: Session,
    *,
    sid: str,
    status: str,
    error_code: int | None,
    now: datetime,
    answered_by: str | None = None,
) -> str:
    """Apply a message or call status callback to the attempt with ``sid``; returns what happened.

    A final status is never downgraded.  Carrier codes 30003/30005/30006 put the customer in
    the callback queue as a bad number; 21610 (the recipient unsubscribed) opts them out.
    A status for a SID not recorded yet is kept ("pending") and applied when the outbox
    records the SID (:func:`apply_pending`).  ``status``, ``error_code`` and ``answered_by``
    are as :func:`callback_status`, :func:`callback_error_code` and :func:`callback_answered_by`
    read them; :data:`UNREADABLE_CODE` is recorded on the attempt as "unknown".
    """
    lock_sid(session, sid)
    attempt = session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.provider_sid == sid, ContactAttempt.direction == "out")
        .order_by(ContactAttempt.id.desc())
        .limit(1)
    ).first()
    if attempt is None:
        log.info("status %s for sid %s before its send was recorded: kept", status, sid)
        session.add(
            PendingStatus(
                sid=sid,
                status=status,
                error_code=error_code,
                answered_by=answered_by,
                received_at=now,
            )
        )
        return "pending"
    if not _may_replace(attempt.status, status):
        return f"kept {attempt.status}"
    attempt.status = status
    if error_code is not None:
        attempt.error_code = UNKNOWN if error_code == UNREADABLE_CODE else str(error_code)
    customer = session.get(Customer, attempt.customer_id)
    if customer is not None and error_code in OPTED_OUT_CODES:
        opt_out(session, customer, source=f"sms: carrier error {error_code}", now=now)
        return "opted out"
    if customer is not None and error_code in BAD_NUMBER_CODES:
        outreach = session.get(Outreach, attempt.outreach_id) if attempt.outreach_id else None
        queue_callback(
            session,
            customer=customer,
            reason="bad_number",
            now=now,
            outreach=outreach,
            detail=f"{attempt.channel} {sid} {status}: carrier error {error_code}",
        )
        return "bad number"
    return status


def apply_pending(
    session: Session,
    settings: Settings,
    sid: str,
    now: datetime,
    *,
    call_unanswered: Callable[..., Any],
) -> list[str]:
    """Apply the status callbacks that arrived for ``sid`` before it was recorded.

    Called by the outbox in the transaction that records the SID (after its attempt row is
    added).  An unanswered call also gets its SMS fallback, as the call-status webhook would
    have done (``call_unanswered``: the hook the outbox received from its entry point).
    """
    lock_sid(session, sid)
    session.flush()
    pending = session.scalars(
        select(PendingStatus).where(PendingStatus.sid == sid).order_by(PendingStatus.id)
    ).all()
    outcomes = []
    for row in pending:
        outcome = record_status(
            session,
            sid=sid,
            status=row.status,
            error_code=row.error_code,
            now=now,
            answered_by=row.answered_by,
        )
        outcomes.append(outcome)
        if sid.startswith("CA") and unanswered(row.status, row.answered_by):
            outreach = outreach_of(session, sid)
            if outreach is not None:
                call_unanswered(
                    session, settings, outreach, status=row.status,
                    answered_by=row.answered_by, now=now, call_sid=sid,
                )  # fmt: skip
        session.delete(row)
    return outcomes


def prune_pending(session: Session, now: datetime) -> int:
    """Forget status callbacks whose SID was never recorded within :data:`PENDING_KEPT`."""
    result = session.execute(
        delete(PendingStatus).where(PendingStatus.received_at < now - PENDING_KEPT)
    )
    return result.rowcount  # type: ignore[attr-defined]


def outreach_of(session: Session, sid: str) -> Outreach | None:
    """The outreach a message or call with provider ``sid`` belongs to."""
    outreach_id = session.scalar(
        select(ContactAttempt.outreach_id)
        .where(ContactAttempt.provider_sid == sid, ContactAttempt.direction == "out")
        .order_by(ContactAttempt.id.desc())
        .limit(1)
    )
    return session.get(Outreach, outreach_id) if outreach_id is not None else None
