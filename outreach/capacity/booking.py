"""Booking, cancelling and rescheduling appointments against the capacity ledger.

Every change runs in a savepoint: either all of a visit's units are taken and the appointment
written, or nothing changes and :class:`SlotTaken` says the time was just taken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import String, case, cast, exists, null, select, update
from sqlalchemy.orm import Session

from outreach.capacity import ledger, load
from outreach.capacity.config import JobType
from outreach.capacity.holds import (
    HOLDS,
    advisor_rows,
    expire_loaded,
    note_no_expired_holds,
    release_expired_holds,
)
from outreach.capacity.ledger import TAKES, UNITS, SlotTaken
from outreach.capacity.load import LOAD
from outreach.capacity.model import (
    Calendar,
    Demand,
    SlotUnavailable,
    UnitNeed,
    calendar,
    demand,
    interval_iso,
)
from outreach.db import any_in, run_with_retries
from outreach.models import Advisor, Appointment, AppointmentJob
from outreach.models.capacity import SlotHold

if TYPE_CHECKING:
    from outreach.settings import Settings  # annotations only: capacity never imports settings

SOURCES = ("bot", "advisor", "inbound")
T = TypeVar("T")


@dataclass(frozen=True)
class Estimate:
    """What the confirmation message tells the customer about the work."""

    labour_hours: float
    price: float
    descriptions: tuple[str, ...]


def estimate(settings: Settings, jobs: list[str] | tuple[str, ...], locale: str) -> Estimate:
    """Total labour hours, price and the jobs' descriptions in ``locale``."""
    need = demand(settings, jobs)
    return Estimate(
        labour_hours=round(sum(j.labour_hours for j in need.jobs), 2),
        price=round(sum(j.price for j in need.jobs), 2),
        descriptions=tuple(j.description.get(locale, j.code) for j in need.jobs),
    )


def book(
    session: Session,
    settings: Settings,
    *,
    customer_id: int,
    vehicle_id: int | None,
    jobs: list[str] | tuple[str, ...],
    starts_at: datetime,
    now: datetime,
    hold_id: int | None = None,
    advisor_id: int | None = None,
    source: str = "bot",
    outreach_id: int | None = None,
) -> Appointment:
    """Book ``jobs`` at ``starts_at``, converting the customer's hold if there is one.

    Raises SlotTaken when the capacity is gone, SlotUnavailable when the time can never be
    booked.  ``source="advisor"`` (booking by hand) may use the reserved labour share and
    ignores the lead time and horizon.  The customer's other live holds are released with the
    booking.  A time already full when read fails at once, before any lock; otherwise every
    unit the booking touches is locked in one statement, in key order, and the conditional
    UPDATE decides.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    need = demand(settings, jobs)
    cal = calendar(settings)
    by_hand = source == "advisor"
    read = None
    if hold_id is None:
        _check_time(cal, settings, starts_at, now, by_hand=by_hand)
        read = _fail_fast(session, cal, need, starts_at, customer_id, now, by_hand=by_hand)
        if read.expired_holds is False:
            note_no_expired_holds(session, now)
    release_expired_holds(session, now)
    hold = _live_hold(session, hold_id, customer_id, starts_at)
    # A live hold was offered with enough notice: the customer answering a few minutes
    # later must not lose it to the lead-time rule.
    _check_time(cal, settings, starts_at, now, by_hand=by_hand, held=hold is not None)
    used = read.used if read is not None else None
    codes = _advisor_order(session, cal, settings, starts_at, advisor_id, hold, used=used)
    # What is known need not be done: a live hold of the same jobs took exactly these rows
    # (same time, same advisor); the read saw which rows exist and whether holds are there.
    held_rows = hold is not None and hold.jobs == ",".join(j.code for j in need.jobs)
    own_holds = hold is not None or read is None or read.own_holds is not False

    def attempt(code: str, advisor: Advisor) -> Appointment:
        needs = cal.units(need, starts_at, code, include_reserved=by_hand)
        return _convert_and_claim(
            session, needs, hold, customer_id,
            Appointment(
                customer_id=customer_id,
                vehicle_id=vehicle_id,
                outreach_id=outreach_id,
                advisor_id=advisor.id,
                starts_at=starts_at,
                status="booked",
                source=source,
                created_at=now,
                updated_at=now,
                jobs=[_job_row(j) for j in need.jobs],
            ),
            exist=held_rows or (read is not None and all(n.key in read.existing for n in needs)),
            own_holds=own_holds,
        )  # fmt: skip

    appointment = _first_advisor_free(session, codes, attempt)
    if hold is not None:
        session.expire(hold)
    return appointment


def _convert_and_claim(
    session: Session,
    needs: list[UnitNeed],
    hold: SlotHold | None,
    customer_id: int,
    appointment: Appointment,
    *,
    exist: bool = False,
    own_holds: bool = True,
) -> Appointment:
    """Inside a savepoint: give back the customer's holds, take ``needs``, write the booking.

    Everything that needs no unit lock is written first (the holds' status, the appointment,
    its takes); then every unit touched — the new ones and those of the customer's holds — is
    locked by one statement in key order, so no two bookings wait on each other in a cycle,
    and the conditional UPDATE decides.  The locks are held only for that UPDATE and the
    commit.  A loser's savepoint is rolled back, so it leaves nothing behind.  A converted
    hold's units go back and are taken again by the appointment in this same savepoint, so
    they are never counted twice nor lost.  A fresh Appointment per attempt: a rolled-back
    savepoint leaves the last one detached.  ``exist``: every unit row is known to exist;
    ``own_holds=False``: the customer is known to hold nothing, so there is nothing to give
    back and the units are locked and taken by the one claiming statement.
    """
    if not exist:
        ledger.ensure_units(session, needs)
    session.add(appointment)
    session.flush()
    ledger.record(session, needs, appointment_id=appointment.id)
    if not own_holds:
        ledger.claim(session, needs, exist=True)
        return appointment
    mine = HOLDS.c.customer_id == customer_id
    values: dict[str, Any] = {"status": "released"}
    if hold is not None:
        mine = mine | (HOLDS.c.id == hold.id)
        converted = HOLDS.c.id == hold.id
        values = {
            "status": case((converted, "converted"), else_="released"),
            "appointment_id": case((converted, appointment.id), else_=HOLDS.c.appointment_id),
        }
    ended = list(
        session.scalars(
            update(HOLDS).where(mine, HOLDS.c.status == "held").values(values).returning(HOLDS.c.id)
        )
    )
    postgres = ledger.is_postgres(session)
    held = ledger.held_keys(any_in(TAKES.c.hold_id, ended, postgres=postgres)) if ended else None
    ledger.lock_units(session, (n.key for n in needs), also_held_by=held)
    given_back: list[load.Change] = []
    ledger.release(session, hold_ids=ended, locked=True, pending=given_back)
    ledger.claim(session, needs, locked=True, given_back=given_back)
    expire_loaded(session, ended)
    return appointment


def cancel(session: Session, settings: Settings, appointment: Appointment, now: datetime) -> None:
    """Cancel a booked appointment and give its capacity back at once."""
    end_appointment(session, appointment, "cancelled", now)


def reschedule(
    session: Session,
    settings: Settings,
    appointment: Appointment,
    *,
    starts_at: datetime,
    now: datetime,
    advisor_id: int | None = None,
    source: str = "bot",
    release_holds: bool = False,
) -> Appointment:
    """Move a booked appointment to ``starts_at``; on SlotTaken it stays where it was.

    ``release_holds``: the customer's live holds are given back in the same step (their units
    locked together with the appointment's, in one key order), so the move can use the places
    they kept and never waits for a lock while holding others.
    """
    if appointment.status != "booked":
        raise SlotUnavailable(f"appointment {appointment.id} is {appointment.status}, not booked")
    need = demand(settings, [j.job_code for j in appointment.jobs])
    cal = calendar(settings)
    by_hand = source == "advisor"
    _check_time(cal, settings, starts_at, now, by_hand=by_hand)
    # No fail-fast: the appointment's own units on that day count as free for it.
    codes = _advisor_order(session, cal, settings, starts_at, advisor_id, None)
    old_start = appointment.starts_at

    def attempt(code: str, advisor: Advisor) -> list[int]:
        moved = session.execute(
            update(Appointment)
            .where(
                Appointment.id == appointment.id,
                Appointment.status == "booked",
                Appointment.starts_at == old_start,
            )
            .values(starts_at=starts_at, advisor_id=advisor.id, reminded_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise SlotUnavailable(f"appointment {appointment.id} changed meanwhile")
        new = cal.units(need, starts_at, code, include_reserved=by_hand)
        ledger.ensure_units(session, new)
        ended: list[int] = []
        if release_holds:
            ended = list(
                session.scalars(
                    update(HOLDS)
                    .where(
                        HOLDS.c.customer_id == appointment.customer_id,
                        HOLDS.c.status == "held",
                    )
                    .values(status="released")
                    .returning(HOLDS.c.id)
                )
            )
        owners = TAKES.c.appointment_id == appointment.id
        if ended:
            owners = owners | TAKES.c.hold_id.in_(ended)
        # Its old units, its holds' and the new ones, locked together in key order.
        ledger.lock_units(session, (n.key for n in new), also_held_by=ledger.held_keys(owners))
        given_back: list[load.Change] = []
        ledger.release(session, hold_ids=ended, locked=True, pending=given_back)
        ledger.release(session, appointment_id=appointment.id, locked=True, pending=given_back)
        ledger.claim(session, new, locked=True, given_back=given_back)
        ledger.record(session, new, appointment_id=appointment.id)
        return ended

    ended = _first_advisor_free(session, codes, attempt)
    if release_holds:
        expire_loaded(session, ended)
    session.expire(appointment)
    return appointment


def _first_advisor_free(
    session: Session, codes: list[tuple[str, Advisor]], attempt: Callable[[str, Advisor], T]
) -> T:
    """``attempt`` with each advisor in turn, each in a savepoint, until one is not taken.

    A full reception interval is that advisor's own, so the next advisor is tried; a full day
    or arrival interval is everyone's, so the search stops there.
    """
    last: SlotTaken | None = None
    for code, advisor in codes:
        try:
            with session.begin_nested():
                return attempt(code, advisor)
        except SlotTaken as exc:
            last = exc
            if not (exc.unit or "").startswith("rcpt:"):
                break
    raise last or SlotTaken("that time was just taken (no advisor free)")


def end_appointment(session: Session, appointment: Appointment, status: str, now: datetime) -> None:
    """Move a booked appointment to ``status`` (cancelled, no_show) and give its units back."""
    changed = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == "booked")
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(appointment)
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise SlotUnavailable(f"appointment {appointment.id} is {appointment.status}, not booked")
    ledger.release(session, appointment_id=appointment.id)


def _check_time(
    cal: Calendar,
    settings: Settings,
    starts_at: datetime,
    now: datetime,
    *,
    by_hand: bool,
    held: bool = False,
) -> None:
    day = cal.check_slot(starts_at)
    if by_hand:
        return
    if held and starts_at <= now:
        raise SlotUnavailable(f"{starts_at.isoformat()} has already passed")
    lead = timedelta(0) if held else timedelta(hours=settings.capacity.min_lead_hours)
    earliest = now + lead
    if starts_at < earliest:
        raise SlotUnavailable(
            f"{starts_at.isoformat()} is too soon: bookings need "
            f"{settings.capacity.min_lead_hours:g} hours' notice"
        )
    if (day - cal.local_date(now)).days > settings.capacity.horizon_days:
        raise SlotUnavailable(f"{day} is beyond the {settings.capacity.horizon_days}-day horizon")


def _live_hold(
    session: Session, hold_id: int | None, customer_id: int, starts_at: datetime
) -> SlotHold | None:
    if hold_id is None:
        return None
    hold = session.get(SlotHold, hold_id)
    if hold is None:
        raise SlotUnavailable(f"no hold {hold_id}")
    if hold.status == "converted":
        raise SlotUnavailable(
            f"hold {hold_id} is already booked (appointment {hold.appointment_id})"
        )
    if hold.customer_id not in (None, customer_id):
        raise SlotUnavailable(f"hold {hold_id} belongs to another customer")
    if hold.status != "held" or hold.starts_at != starts_at:
        return None  # expired, released or another time: book afresh if capacity allows
    return hold


@dataclass
class _DayRead:
    """What one unlocked read of the booking's day found (see :func:`_fail_fast`)."""

    used: dict[str, int]  # the day's units in use (from the day load)
    existing: set[str]  # which of the visit's possible unit rows exist
    own_holds: bool | None = None  # the customer has live holds (None: not read)
    expired_holds: bool | None = None  # some live hold has run out (None: not read)


def _fail_fast(
    session: Session,
    cal: Calendar,
    need: Demand,
    starts_at: datetime,
    customer_id: int,
    now: datetime,
    *,
    by_hand: bool,
) -> _DayRead:
    """The day's load; SlotTaken at once when no advisor on duty could take the visit in it.

    A read without locks, so a confirmation that has already lost fails without queueing
    behind the winners' row locks.  It is only a shortcut: every configured advisor counts,
    expired holds not yet swept and the customer's own live holds (given back by the booking)
    make it step aside, and the locked conditional UPDATE stays the real guard.  The same
    round trip reads the day load (a few rows, whatever the workshop's size), which of the
    visit's unit rows exist and whether any hold could give places back, so a booking that
    wins skips the statements those would need.
    """
    day = cal.local_date(starts_at)
    advisors = cal.advisors_on(day)
    if not advisors:
        return _DayRead({}, set())
    shared = [
        n
        for n in cal.units(need, starts_at, advisors[0].code, include_reserved=by_hand)
        if n.kind != "reception"
    ]
    iso = interval_iso(starts_at)
    reception = [
        UnitNeed(f"rcpt:{a.code}:{iso}", "reception", day, a.cars_per_interval, 1) for a in advisors
    ]
    keys = sorted({n.key for n in shared} | {n.key for n in reception})
    own = exists().where(HOLDS.c.customer_id == customer_id, HOLDS.c.status == "held")
    expired = exists().where(HOLDS.c.status == "held", HOLDS.c.expires_at <= now)
    no_detail = cast(null(), LOAD.c.detail.type)
    rows = session.execute(
        select(UNITS.c.key, no_detail.label("detail"), own, expired)
        .where(any_in(UNITS.c.key, keys, postgres=ledger.is_postgres(session)))
        .union_all(
            select(cast(null(), String), LOAD.c.detail, own, expired).where(
                LOAD.c.day == day, LOAD.c.used != 0
            )
        )
    ).all()
    read = _DayRead({}, set())
    for key, detail, _, _ in rows:
        if key is not None:
            read.existing.add(key)
        else:
            read.used.update(load.parse(detail))
    if rows:
        read.own_holds, read.expired_holds = bool(rows[0][2]), bool(rows[0][3])
    full = [n for n in shared if read.used.get(n.key, 0) + n.amount > n.capacity]
    if not full:
        over = [n for n in reception if read.used.get(n.key, 0) + n.amount > n.capacity]
        if len(over) < len(reception):
            return read
        full = over
    if read.own_holds is None:
        read.own_holds, read.expired_holds = session.execute(select(own, expired)).one()
    if read.own_holds or read.expired_holds:
        return read
    full.sort(key=lambda n: (n.kind == "reception", n.key))
    raise SlotTaken(f"that time was just taken ({full[0].kind} {full[0].key} is full)", full[0].key)


def _advisor_order(
    session: Session,
    cal: Calendar,
    settings: Settings,
    starts_at: datetime,
    advisor_id: int | None,
    hold: SlotHold | None,
    *,
    used: dict[str, int] | None = None,
) -> list[tuple[str, Advisor]]:
    """Advisors to try: the hold's or the chosen one, else every one on duty, least busy first."""
    rows = advisor_rows(session, settings)
    by_id = {a.id: (code, a) for code, a in rows.items()}
    wanted = hold.advisor_id if hold is not None else advisor_id
    day = cal.local_date(starts_at)
    on_duty = [a.code for a in cal.advisors_on(day) if a.code in rows]
    if wanted is not None:
        if wanted not in by_id or by_id[wanted][0] not in on_duty:
            raise SlotUnavailable(f"advisor {wanted} does not receive cars on {day}")
        return [by_id[wanted]]
    if not on_duty:
        raise SlotUnavailable(f"no advisor receives cars on {day}")
    if used is None:
        used = ledger.usage(session, day, day)
    busy = dict.fromkeys(on_duty, 0)  # reception places in use per advisor over the day
    for key, amount in used.items():
        if key.startswith("rcpt:"):
            code = key.split(":", 2)[1]
            if code in busy:
                busy[code] += amount
    on_duty.sort(key=lambda c: (busy[c], c))
    return [(c, rows[c]) for c in on_duty]


def _job_row(job: JobType) -> AppointmentJob:
    # The dealership's first language is the record's; estimate() gives other locales.
    return AppointmentJob(
        job_code=job.code,
        description=job.description.get("zh-CN", job.code),
        labour_hours=job.labour_hours,
        price=job.price,
    )


__all__ = [
    "Estimate",
    "SlotTaken",
    "book",
    "cancel",
    "end_appointment",
    "estimate",
    "reschedule",
    "run_with_retries",
]
