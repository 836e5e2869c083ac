"""Taking and giving back ledger units: the only code that changes ``capacity_units.used``.

Never overbook, on SQLite and PostgreSQL, across processes:

* A take is ``UPDATE capacity_units SET used = used + :n WHERE key = :k AND used + :n <=
  :capacity`` and succeeds only if it changed one row.  The check and the write are one
  statement, so there is no window between reading "one place left" and taking it.
* PostgreSQL: the UPDATE locks the row; a concurrent taker of the same row waits for that lock
  and, at READ COMMITTED, re-evaluates the WHERE against the committed row before writing — so
  the second of two takers for the last place sees it gone and changes nothing.  Units are
  locked in key order, so two bookings never wait on each other in a cycle.
* SQLite: every transaction starts with BEGIN IMMEDIATE (:mod:`outreach.db`), so writers run one
  at a time, across threads and processes; the conditional UPDATE sees every earlier commit.
* Both: a CHECK (used <= capacity) rejects any row that would ever exceed its capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from outreach.capacity.model import UnitNeed
from outreach.models.capacity import CapacityTake, CapacityUnit

UNITS = CapacityUnit.__table__
TAKES = CapacityTake.__table__


class SlotTaken(Exception):
    """That time was just taken: another booking or hold got the last place first."""

    def __init__(self, message: str, unit: str | None = None) -> None:
        super().__init__(message)
        self.unit = unit


def ensure_units(session: Session, needs: Sequence[UnitNeed]) -> None:
    """Create missing unit rows (used = 0); existing rows are left alone."""
    if not needs:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = {
        n.key: {"key": n.key, "kind": n.kind, "day": n.day, "capacity": n.capacity, "used": 0}
        for n in needs
    }
    stmt = insert(UNITS).values(sorted(rows.values(), key=lambda r: r["key"]))
    session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))


def lock_units(session: Session, keys: Iterable[str]) -> None:
    """Lock unit rows in key order (PostgreSQL), so multi-unit changes never deadlock."""
    ordered = sorted(set(keys))
    if ordered and session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(UNITS.c.key)
            .where(UNITS.c.key.in_(ordered))
            .order_by(UNITS.c.key)
            .with_for_update()
        )


def take(
    session: Session,
    needs: Sequence[UnitNeed],
    *,
    hold_id: int | None = None,
    appointment_id: int | None = None,
) -> None:
    """Take every unit of ``needs`` for one owner, or raise SlotTaken.

    Call inside a savepoint: on SlotTaken the units taken so far must be rolled back with it.
    """
    claim(session, needs)
    record(session, needs, hold_id=hold_id, appointment_id=appointment_id)


def claim(session: Session, needs: Sequence[UnitNeed]) -> None:
    """Add ``needs`` to the units' ``used``, or raise SlotTaken (then roll the savepoint back)."""
    ensure_units(session, needs)
    # The conditional UPDATEs lock the rows in key order, so concurrent claims cannot deadlock.
    for n in sorted(needs, key=lambda u: u.key):
        result = session.execute(
            update(UNITS)
            .where(UNITS.c.key == n.key, UNITS.c.used + n.amount <= n.capacity)
            .values(used=UNITS.c.used + n.amount, capacity=n.capacity)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise SlotTaken(f"that time was just taken ({n.kind} {n.key} is full)", n.key)


def record(
    session: Session,
    needs: Sequence[UnitNeed],
    *,
    hold_id: int | None = None,
    appointment_id: int | None = None,
) -> None:
    """Remember which owner took the claimed units, so :func:`release` can give them back."""
    _owner(hold_id, appointment_id)
    session.execute(
        TAKES.insert(),
        [
            {
                "unit_key": n.key,
                "amount": n.amount,
                "hold_id": hold_id,
                "appointment_id": appointment_id,
            }
            for n in needs
        ],
    )


def owned_keys(
    session: Session, *, hold_id: int | None = None, appointment_id: int | None = None
) -> list[str]:
    return list(session.scalars(select(TAKES.c.unit_key).where(_owner(hold_id, appointment_id))))


def release(
    session: Session, *, hold_id: int | None = None, appointment_id: int | None = None
) -> int:
    """Give back every unit one owner holds; returns how many units were given back.

    Each take row is deleted before its amount is given back, and only a delete that removed
    the row gives it back, so two concurrent releases of the same owner give back once.
    """
    rows = session.execute(
        select(TAKES.c.id, TAKES.c.unit_key, TAKES.c.amount)
        .where(_owner(hold_id, appointment_id))
        .order_by(TAKES.c.unit_key)
    ).all()
    lock_units(session, (r.unit_key for r in rows))
    released = 0
    for row in rows:
        gone = session.execute(delete(TAKES).where(TAKES.c.id == row.id))
        if gone.rowcount == 1:  # type: ignore[attr-defined]
            session.execute(
                update(UNITS)
                .where(UNITS.c.key == row.unit_key)
                .values(used=UNITS.c.used - row.amount)
            )
            released += 1
    return released


def usage(session: Session, first: date, last: date) -> dict[str, int]:
    """``used`` of every unit row from local day ``first`` to ``last`` inclusive."""
    rows = session.execute(
        select(UNITS.c.key, UNITS.c.used).where(UNITS.c.day >= first, UNITS.c.day <= last)
    )
    return {key: used for key, used in rows}


def _owner(hold_id: int | None, appointment_id: int | None):  # type: ignore[no-untyped-def]
    if (hold_id is None) == (appointment_id is None):
        raise ValueError("name exactly one owner: hold_id or appointment_id")
    if hold_id is not None:
        return TAKES.c.hold_id == hold_id
    return TAKES.c.appointment_id == appointment_id
