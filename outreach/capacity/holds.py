"""Slot holds: an offered slot kept for a customer while they answer; its units are taken."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import String, Table, any_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from outreach.capacity import ledger
from outreach.capacity.model import UnitNeed
from outreach.db import any_in, transaction_memo
from outreach.models import Advisor
from outreach.models.capacity import SlotHold

if TYPE_CHECKING:
    from outreach.settings import Settings  # annotations only: capacity never imports settings

HOLDS = cast(Table, SlotHold.__table__)  # Core statements on the table itself


def advisor_rows(session: Session, settings: Settings) -> dict[str, Advisor]:
    """The configured advisors' rows by code, created when missing; inactive ones left out.

    Read once per transaction when every row already existed (rows created here could still
    be rolled back with a savepoint, so those are read again next time).
    """
    memo = transaction_memo(session)
    found: dict[str, Advisor] | None = memo.get("advisors")
    if found is None:
        found, created = _advisor_rows(session, settings)
        if not created:
            memo["advisors"] = found
    return found


def _advisor_rows(session: Session, settings: Settings) -> tuple[dict[str, Advisor], bool]:
    codes = [a.code for a in settings.capacity.advisors]
    postgres = ledger.is_postgres(session)

    def configured() -> dict[str, Advisor]:
        found = (
            session.scalars(_PG_ADVISORS, {"codes": codes})
            if postgres
            else session.scalars(select(Advisor).where(Advisor.code.in_(codes)))
        )
        return {a.code: a for a in found}

    rows = configured()
    missing = [a for a in settings.capacity.advisors if a.code not in rows]
    if missing:
        # ON CONFLICT: two first bookings in two processes may both find an advisor missing.
        insert = pg_insert if postgres else sqlite_insert
        session.execute(
            insert(Advisor)
            .values([{"code": a.code, "name": a.name, "active": True} for a in missing])
            .on_conflict_do_nothing(index_elements=["code"])
        )
        rows = configured()
    return {code: row for code, row in rows.items() if row.active}, bool(missing)


# Built once (every offer runs it on PostgreSQL).
_PG_ADVISORS = select(Advisor).where(Advisor.code == any_(bindparam("codes", type_=ARRAY(String))))


@dataclass(frozen=True)
class HoldRequest:
    """One slot to hold: its arrival time, advisor and the ledger units it takes."""

    starts_at: datetime
    advisor: Advisor
    needs: tuple[UnitNeed, ...]


def hold_minutes(settings: Settings, channel: str) -> int:
    minutes = settings.capacity.hold_minutes.get(channel)
    if minutes is None:
        raise ValueError(f"hold_for must be one of {', '.join(settings.capacity.hold_minutes)}")
    return minutes


def place_holds(
    session: Session,
    requests: Sequence[HoldRequest],
    *,
    jobs: str,
    customer_id: int | None,
    channel: str,
    expires_at: datetime,
    now: datetime,
    day_units: Callable[[date], list[UnitNeed]] | None = None,
) -> list[SlotHold]:
    """Hold every request whose units are free and not being changed by anyone else right now.

    All the requests' units are locked at once in key order with SKIP LOCKED (a row another
    transaction is changing is skipped, never waited for), checked against their capacity in
    Python — adding up requests that share a unit — and taken with one conditional UPDATE, which
    stays the real guard.  Returns the holds placed, in the order requested; the caller offers
    the next best for the rest.  ``day_units``: when a unit row is missing, every row of its
    day is created with it (see :meth:`Calendar.day_units`).
    """
    if not requests:
        return []
    wanted = ledger.combine(n for r in requests for n in r.needs)
    used, existing = ledger.lock_free_seen(session, wanted)
    # Rows another transaction is changing are skipped (not in ``used``); rows never created
    # (or being created by a transaction not yet committed) are created here, if they can be
    # without waiting long.
    missing = [n for k, n in wanted.items() if k not in existing]
    if missing and day_units is not None:
        missing += [u for day in sorted({n.day for n in missing}) for u in day_units(day)]
    if missing:
        used.update(dict.fromkeys(ledger.create_missing(session, missing), 0))
    chosen: list[HoldRequest] = []
    for req in requests:
        if all(n.key in used and used[n.key] + n.amount <= n.capacity for n in req.needs):
            chosen.append(req)
            for n in req.needs:
                used[n.key] += n.amount
    if not chosen:
        return []
    ledger.claim(session, (n for r in chosen for n in r.needs), locked=True, checked=True)
    rows = [
        {
            "starts_at": r.starts_at,
            "advisor_id": r.advisor.id,
            "customer_id": customer_id,
            "jobs": jobs,
            "channel": channel,
            "status": "held",
            "expires_at": expires_at,
            "appointment_id": None,
            "created_at": now,
        }
        for r in chosen
    ]
    # The table's own INSERT … RETURNING (the ORM's unit of work costs more than the
    # statement); the rows then join the session as loaded, as a flush would leave them.
    ids = session.scalars(_INSERT_HOLDS, rows).all()
    holds: list[SlotHold] = []
    for hold_id, row in zip(ids, rows, strict=True):
        hold = SlotHold(id=hold_id, **row)
        make_transient_to_detached(hold)
        session.add(hold)
        holds.append(hold)
    ledger.record_rows(
        session,
        [
            {"unit_key": n.key, "amount": n.amount, "hold_id": h.id, "appointment_id": None}
            for h, r in zip(holds, chosen, strict=True)
            for n in r.needs
        ],
    )
    return holds


_INSERT_HOLDS = insert(HOLDS).returning(HOLDS.c.id, sort_by_parameter_order=True)


def end_hold(session: Session, hold_id: int, status: str) -> bool:
    """Move a live hold to ``status`` and give its units back; False if it was not live.

    The status change is conditional, so of two processes ending the same hold one wins.
    """
    return bool(end_holds(session, HOLDS.c.id == hold_id, status))


def end_holds(session: Session, which: Any, status: str, *, locked: bool = False) -> list[int]:
    """Move the live holds matched by ``which`` to ``status``, give their units back; their ids.

    One conditional UPDATE … RETURNING picks them, so a hold ended by two processes at once is
    given back by one.  ``locked``: the caller already locked the units (in key order).
    """
    ids = list(
        session.scalars(
            update(HOLDS)
            .where(which, HOLDS.c.status == "held")
            .values(status=status)
            .returning(HOLDS.c.id)
        )
    )
    return _give_back(session, ids, locked=locked)


def _give_back(session: Session, ids: list[int], *, locked: bool = False) -> list[int]:
    """Give back the units of holds just ended (``ids``); the ids."""
    if ids:
        ledger.release(session, hold_ids=ids, locked=locked)
        expire_loaded(session, ids)
    return ids


def release_expired_holds(session: Session, now: datetime) -> int:
    """End every hold whose time has run out that nobody else is changing; how many were.

    Never waits: on PostgreSQL the expired holds and then their units are locked with SKIP
    LOCKED; if another transaction is changing one of those units, the sweep is rolled back and
    left for the next call (the scheduler's job runs it every few minutes).  With nothing
    expired it is one indexed statement, and a second call at the same ``now`` in the same
    transaction (a request that offers twice) none: what it found cannot have changed.
    """
    memo = transaction_memo(session)
    if memo.get("no_expired_holds_at") == now:
        return 0
    postgres = ledger.is_postgres(session)
    ids = list(session.scalars(_EXPIRE[postgres], {"now": now}))
    if not ids:
        note_no_expired_holds(session, now)
        return 0
    postgres = ledger.is_postgres(session)
    keys = set(
        session.scalars(ledger.held_keys(any_in(ledger.TAKES.c.hold_id, ids, postgres=postgres)))
    )
    if len(ledger.lock_free(session, keys)) < len(keys):
        # Someone is changing one of these units: put the holds back (their rows are locked by
        # us, so nobody saw the change) and leave the sweep for next time.
        session.execute(update(HOLDS).where(HOLDS.c.id.in_(ids)).values(status="held"))
        return 0
    ledger.release(session, hold_ids=ids, locked=True)
    expire_loaded(session, ids)
    return len(ids)


def _expire(*, postgres: bool) -> Any:
    live = select(HOLDS.c.id).where(
        HOLDS.c.status == "held", HOLDS.c.expires_at <= bindparam("now")
    )
    if postgres:
        live = live.with_for_update(skip_locked=True)
    return (
        update(HOLDS)
        .where(HOLDS.c.id.in_(live.scalar_subquery()), HOLDS.c.status == "held")
        .values(status="expired")
        .returning(HOLDS.c.id)
    )


# Built once (every offer and booking runs it): by whether the database is PostgreSQL.
_EXPIRE = {True: _expire(postgres=True), False: _expire(postgres=False)}


def note_no_expired_holds(session: Session, now: datetime) -> None:
    """Record that a read in this transaction found no live hold run out at ``now``."""
    transaction_memo(session)["no_expired_holds_at"] = now


def release_customer_holds(session: Session, customer_id: int, *, keep: Sequence[int] = ()) -> int:
    """Release a customer's live holds (they booked one, or declined); returns how many."""
    if not keep:  # the common case, with a statement built once
        ids = list(session.scalars(_RELEASE_CUSTOMER, {"of_customer": customer_id}))
        return len(_give_back(session, ids))
    which = (HOLDS.c.customer_id == customer_id) & HOLDS.c.id.not_in(list(keep))
    return len(end_holds(session, which, "released"))


_RELEASE_CUSTOMER = (
    update(HOLDS)
    .where(HOLDS.c.customer_id == bindparam("of_customer"), HOLDS.c.status == "held")
    .values(status="released")
    .returning(HOLDS.c.id)
)


def expire_loaded(session: Session, ids: Sequence[int]) -> None:
    # The status moved by a Core UPDATE; drop stale loaded copies so readers see it.
    wanted = set(ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SlotHold) and obj.id in wanted:
            session.expire(obj)


def hold_expiry(settings: Settings, channel: str, now: datetime) -> datetime:
    return now + timedelta(minutes=hold_minutes(settings, channel))
