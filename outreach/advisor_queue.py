"""The advisors' callback queue: who waits, claiming an entry, its outcome, the customer's file.

Plain SQLAlchemy: every function takes the session first and ``now`` as an argument and never
commits; the web request that calls it owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from outreach import callbacks
from outreach.models import (
    OUTREACH_OPEN,
    CallbackRequest,
    ContactAttempt,
    Customer,
    DeferredItem,
    Outreach,
    User,
    Vehicle,
    Visit,
)

OUTCOMES = (
    "booked",
    "declined",
    "no_answer",
    "wrong_number",
    "complaint_handled",
    "call_again",
)
# Reasons whose detail the system writes (carrier errors, send failures, escalation counts):
# machine text kept verbatim for support, shown apart from what the customer said.
SYSTEM_DETAIL = frozenset({"bot_error", "send_unknown", "unanswered", "bad_number"})
# What an advisor's outcome means for the customer's open outreach, when it decides it.
_OUTREACH_STATUS = {"booked": "booked", "declined": "declined"}


class DeskError(ValueError):
    """A queue action that cannot be done (not claimed by you, unknown outcome …)."""


def target_response(reason: str) -> timedelta:
    """How soon a callback with this reason should be answered."""
    return callbacks.reason(reason).target


@dataclass(frozen=True)
class QueueEntry:
    callback: CallbackRequest
    age: timedelta
    target: timedelta
    claimed_by: User | None

    @property
    def overdue(self) -> bool:
        return self.age > self.target

    @property
    def customer(self) -> Customer:
        return self.callback.customer

    @property
    def customer_words(self) -> str | None:
        """The detail when it is what the customer said (None for a system record)."""
        return None if self.callback.reason in SYSTEM_DETAIL else self.callback.detail


def list_callbacks(session: Session, *, now: datetime) -> tuple[list[QueueEntry], list[QueueEntry]]:
    """The queue: (entries waiting now, most urgent first; entries to call again later)."""
    rows = session.scalars(
        select(CallbackRequest)
        .where(CallbackRequest.status.in_(("open", "claimed")))
        .options(selectinload(CallbackRequest.customer))
        .order_by(CallbackRequest.priority, CallbackRequest.created_at, CallbackRequest.id)
    ).all()
    user_ids = {r.claimed_by for r in rows if r.claimed_by is not None}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    waiting, later = [], []
    for row in rows:
        since = row.call_again_at or row.created_at
        entry = QueueEntry(
            callback=row,
            age=max(now - since, timedelta(0)),
            target=target_response(row.reason),
            claimed_by=users.get(row.claimed_by) if row.claimed_by is not None else None,
        )
        if row.status == "open" and row.call_again_at is not None and row.call_again_at > now:
            later.append(entry)
        else:
            waiting.append(entry)
    later.sort(key=lambda e: e.callback.call_again_at or now)
    return waiting, later


def claim(session: Session, callback_id: int, *, user_id: int, now: datetime) -> bool:
    """Claim an open entry for ``user_id``; False when someone else got it first.

    A conditional UPDATE checked by its row count, not read-then-write: on PostgreSQL the
    second advisor's UPDATE waits for the first's row lock and then matches nothing; on
    SQLite the write lock taken at BEGIN IMMEDIATE serializes the two.
    """
    result = session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.status == "open")
        .values(status="claimed", claimed_by=user_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    claimed = result.rowcount == 1  # type: ignore[attr-defined]
    if claimed:
        session.expire_all()
    return claimed


def record_outcome(
    session: Session,
    callback_id: int,
    *,
    user_id: int,
    outcome: str,
    note: str = "",
    call_again_at: datetime | None = None,
    now: datetime,
) -> CallbackRequest:
    """Record what came of a claimed callback; "call_again" puts it back in the queue for later."""
    if outcome not in OUTCOMES:
        raise DeskError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    callback = session.get(CallbackRequest, callback_id)
    if callback is None:
        raise DeskError(f"no callback {callback_id}")
    if callback.status != "claimed" or callback.claimed_by != user_id:
        raise DeskError("claim this entry before recording an outcome")
    note = note.strip()
    callback.outcome = outcome
    callback.outcome_note = note or None
    if outcome == "call_again":
        if call_again_at is None or call_again_at <= now:
            raise DeskError("call_again_at must be a time in the future")
        callback.status = "open"
        callback.call_again_at = call_again_at
        callback.claimed_by = None
        callback.claimed_at = None
    else:
        callback.status = "done"
        callback.closed_at = now
    status = _OUTREACH_STATUS.get(outcome)
    if status and callback.outreach_id is not None:
        session.execute(
            update(Outreach)
            .where(Outreach.id == callback.outreach_id, Outreach.status.in_(OUTREACH_OPEN))
            .values(status=status, closed_at=now, outcome=f"desk: {outcome}")
        )
    session.add(
        ContactAttempt(
            customer_id=callback.customer_id,
            outreach_id=callback.outreach_id,
            at=now,
            channel="desk",
            direction="note",
            kind=f"callback_{outcome}",
            body=note or None,
        )
    )
    session.flush()
    return callback


def transcript(session: Session, customer_id: int, *, limit: int = 200) -> list[ContactAttempt]:
    """Every message, call and note with the customer, oldest first (the newest ``limit``)."""
    rows = session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.customer_id == customer_id)
        .order_by(ContactAttempt.at.desc(), ContactAttempt.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


@dataclass(frozen=True)
class VehicleFile:
    vehicle: Vehicle
    visits: list[Visit]  # newest first
    deferred: list[DeferredItem]  # open items, soonest due first


def customer_file(session: Session, customer_id: int, *, visits: int = 5) -> list[VehicleFile]:
    """The customer's active vehicles with their last visits and open deferred work."""
    vehicles = session.scalars(
        select(Vehicle)
        .where(Vehicle.customer_id == customer_id, Vehicle.active.is_(True))
        .order_by(Vehicle.id)
    ).all()
    files = []
    for vehicle in vehicles:
        last = session.scalars(
            select(Visit)
            .where(Visit.vehicle_id == vehicle.id)
            .order_by(Visit.visited_on.desc(), Visit.id.desc())
            .limit(visits)
        ).all()
        deferred = session.scalars(
            select(DeferredItem)
            .where(DeferredItem.vehicle_id == vehicle.id, DeferredItem.done_at.is_(None))
            .order_by(DeferredItem.due_by)
        ).all()
        files.append(VehicleFile(vehicle, list(last), list(deferred)))
    return files
