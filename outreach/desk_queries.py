"""What the advisors' desk reads and writes: the callback queue, the customer file, the board.

Plain SQLAlchemy: every function takes the session first and ``now`` as an argument and never
commits; the web request that calls it owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from outreach import callbacks
from outreach.models import (
    APPOINTMENT_ACTIVE,
    OUTREACH_OPEN,
    Appointment,
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


@dataclass(frozen=True)
class BoardRow:
    appointment: Appointment
    local_start: datetime

    @property
    def hours(self) -> float:
        return round(sum(j.labour_hours for j in self.appointment.jobs), 2)


@dataclass
class BoardGroup:
    """One advisor's appointments of a day, by arrival hour."""

    advisor: str | None
    intervals: dict[str, list[BoardRow]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.intervals.values())


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC-comparable instants where the local ``day`` starts and the next one starts."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def appointments_on(session: Session, day: date, *, tz: ZoneInfo) -> list[BoardRow]:
    """Active appointments starting on the local ``day``, by time then advisor."""
    start, end = day_bounds(day, tz)
    rows = session.scalars(
        select(Appointment)
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.status.in_(APPOINTMENT_ACTIVE),
        )
        .options(
            selectinload(Appointment.customer),
            selectinload(Appointment.vehicle),
            selectinload(Appointment.advisor),
            selectinload(Appointment.jobs),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    return [BoardRow(a, a.starts_at.astimezone(tz)) for a in rows]


def board(session: Session, day: date, *, tz: ZoneInfo) -> list[BoardGroup]:
    """The appointment board of a day: per advisor (unassigned last), per arrival hour."""
    # Keyed by advisor id: two advisors may share a name.
    groups: dict[int | None, BoardGroup] = {}
    by_interval: dict[int | None, dict[str, list[BoardRow]]] = defaultdict(dict)
    for row in appointments_on(session, day, tz=tz):
        found = row.appointment.advisor
        advisor = found.id if found else None
        groups.setdefault(advisor, BoardGroup(found.name if found else None))
        hour = row.local_start.replace(minute=0)
        label = f"{hour:%H:%M}–{hour + timedelta(hours=1):%H:%M}"
        by_interval[advisor].setdefault(label, []).append(row)
    for advisor, group in groups.items():
        group.intervals = by_interval[advisor]
    return sorted(groups.values(), key=lambda g: (g.advisor is None, g.advisor or ""))
