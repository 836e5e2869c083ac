"""Taking and giving back ledger units: the only code that changes ``capacity_units.used``.

Never overbook, on SQLite and PostgreSQL, across processes:

* A take is ``UPDATE capacity_units SET used = used + n WHERE key IN (…) AND used + n <=
  capacity`` (``n`` and ``capacity`` per key) and succeeds only if it changed every row it
  names.  The check and the write are one statement, so there is no window between reading
  "one place left" and taking it; a partial take raises SlotTaken and the caller's savepoint
  rolls it back.
* PostgreSQL: before any change, every unit row a change touches is locked by ONE ``SELECT …
  ORDER BY key FOR NO KEY UPDATE`` (the UPDATE's own lock strength: the foreign keys of
  ``capacity_takes`` rows only take KEY SHARE, so writing takes never queues behind it).
  So all transactions take their unit locks in one global order and never wait on each
  other in a cycle.  A concurrent taker of the same row waits for the lock
  and, at READ COMMITTED, re-evaluates the WHERE against the committed row before writing — so
  the second of two takers for the last place sees it gone and changes nothing.  Offers use
  ``SKIP LOCKED`` instead (see :func:`lock_free`): they never wait at all.
* SQLite: every transaction starts with BEGIN IMMEDIATE (:mod:`outreach.db`), so writers run one
  at a time, across threads and processes; the conditional UPDATE sees every earlier commit.
* Both: a CHECK (used <= capacity) rejects any row that would ever exceed its capacity.

Every change of ``used`` is also added to the day load (:mod:`outreach.capacity.load`) in the
same transaction, which offers read instead of the unit rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    case,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from outreach.capacity import load
from outreach.capacity.model import UnitNeed
from outreach.db import any_in, unnested
from outreach.models.capacity import CapacityTake, CapacityUnit

UNITS = cast(Table, CapacityUnit.__table__)  # Core statements on the table itself
TAKES = cast(Table, CapacityTake.__table__)  # Core statements on the table itself


class SlotTaken(Exception):
    """That time was just taken: another booking or hold got the last place first."""

    def __init__(self, message: str, unit: str | None = None) -> None:
        super().__init__(message)
        self.unit = unit


class LedgerError(RuntimeError):
    """A locked unit did not take what was checked under the lock; never expected."""


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def combine(needs: Iterable[UnitNeed]) -> dict[str, UnitNeed]:
    """One need per key: the amounts of several slots on the same unit (a day's labour) add up."""
    out: dict[str, UnitNeed] = {}
    for n in needs:
        seen = out.get(n.key)
        out[n.key] = (
            n
            if seen is None
            else UnitNeed(n.key, n.kind, n.day, n.capacity, seen.amount + n.amount)
        )
    return out


def ensure_units(session: Session, needs: Iterable[UnitNeed]) -> None:
    """Create missing unit rows (used = 0) with one INSERT; existing rows are left alone."""
    rows = {
        n.key: {"key": n.key, "kind": n.kind, "day": n.day, "capacity": n.capacity, "used": 0}
        for n in needs
    }
    if not rows:
        return
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(UNITS).values([rows[k] for k in sorted(rows)])
    session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))


def create_missing(session: Session, needs: Iterable[UnitNeed], *, wait_ms: int = 100) -> set[str]:
    """Create the unit rows among ``needs`` that do not exist yet; returns the keys created.

    The rows created are this transaction's (so as good as locked by it).  On PostgreSQL an
    INSERT may have to wait for another transaction creating the same row; that wait is bounded
    by ``lock_timeout`` inside a savepoint, so an offer holding other rows can never close a
    waiting cycle — after ``wait_ms`` it creates nothing and skips those slots instead.
    """
    rows = {
        n.key: {"key": n.key, "kind": n.kind, "day": n.day, "capacity": n.capacity, "used": 0}
        for n in needs
    }
    if not rows:
        return set()
    postgres = is_postgres(session)
    insert = pg_insert if postgres else sqlite_insert
    stmt = (
        insert(UNITS)
        .values([rows[k] for k in sorted(rows)])
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(UNITS.c.key)
    )
    if not postgres:
        return set(session.scalars(stmt))
    try:
        with session.begin_nested():
            before = session.scalar(
                select(func.current_setting("lock_timeout")).add_columns(
                    func.set_config("lock_timeout", f"{wait_ms}ms", True)
                )
            )
            created = set(session.scalars(stmt))
            session.execute(select(func.set_config("lock_timeout", before, True)))
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        return set()  # the savepoint's rollback also restored lock_timeout
    return created


def _locking(where: ColumnElement[bool], *, skip_locked: bool = False, used: bool = False) -> Any:
    """SELECT the unit rows matched by ``where``, locked in key order (FOR NO KEY UPDATE, the
    lock of the UPDATE that follows); ``skip_locked`` leaves out rows others have locked.
    SQLite renders no lock: its BEGIN IMMEDIATE already serializes writers."""
    columns = (UNITS.c.key, UNITS.c.used) if used else (UNITS.c.key,)
    return (
        select(*columns)
        .where(where)
        .order_by(UNITS.c.key)
        .with_for_update(key_share=True, skip_locked=skip_locked)
    )


def lock_units(session: Session, keys: Iterable[str], *, also_held_by: Any = None) -> None:
    """Lock unit rows in key order (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes).

    ``also_held_by`` (a SELECT of ``capacity_takes.unit_key``) adds the units some owners hold,
    so a change that gives back and takes locks everything it touches in one statement.
    """
    if not is_postgres(session):
        return
    ordered = sorted(set(keys))
    where: ColumnElement[bool] = any_in(UNITS.c.key, ordered, postgres=True)
    if also_held_by is not None:
        where = where | UNITS.c.key.in_(also_held_by)
    elif not ordered:
        return
    session.execute(_locking(where))


def lock_free(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """``used`` of the unit rows among ``keys`` that no other transaction has locked, now locked.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` never waits, so an offer can never take part in a
    deadlock; a row another transaction is changing is simply left out (that slot is skipped
    for the next best).  SQLite: every row, as the write lock is already ours.
    """
    stmt = _locking(
        any_in(UNITS.c.key, sorted(set(keys)), postgres=is_postgres(session)),
        skip_locked=True,
        used=True,
    )
    return {key: used for key, used in session.execute(stmt)}


def lock_free_seen(session: Session, keys: Iterable[str]) -> tuple[dict[str, int], set[str]]:
    """:func:`lock_free`, and also which of ``keys`` exist at all (locked by others or not).

    One statement on PostgreSQL: the SKIP LOCKED read is a CTE joined back to the table, so a
    row another transaction is changing shows up as existing but not free.  A key missing
    from both was never created (or is being created by a transaction not yet committed).
    """
    wanted = sorted(set(keys))
    if not is_postgres(session):
        free = lock_free(session, wanted)
        return free, set(free)
    rows = session.execute(_PG_FREE_SEEN, {"keys": wanted}).all()
    return {k: u for k, u in rows if u is not None}, {k for k, _ in rows}


def _pg_free_seen() -> Any:
    among = UNITS.c.key == any_(bindparam("keys", type_=ARRAY(String)))
    locked = _locking(among, skip_locked=True, used=True).cte("free_units")
    return (
        select(UNITS.c.key, locked.c.used)
        .select_from(UNITS.outerjoin(locked, locked.c.key == UNITS.c.key))
        .where(among)
    )


_PG_FREE_SEEN = _pg_free_seen()  # built once: every offer that holds runs it


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


def claim(
    session: Session,
    needs: Iterable[UnitNeed],
    *,
    locked: bool = False,
    checked: bool = False,
    exist: bool = False,
    given_back: Sequence[load.Change] = (),
) -> None:
    """Add ``needs`` to the units' ``used`` in one conditional UPDATE, or raise SlotTaken.

    On SlotTaken roll the enclosing savepoint back.  ``locked``: the caller has already
    created and locked every row (in key order), so neither is done again.  ``checked``: the
    caller also saw under that lock that the amounts fit, so a miss raises LedgerError.
    ``given_back``: the changes of a :func:`release` just before (``pending=``), written to
    the day load together with this take — a hold converted to a booking of the same units
    nets out and writes nothing.
    ``exist``: the caller knows every row exists, so none is created.  Unlocked on PostgreSQL,
    the rows are locked in key order by a CTE of the same statement (see the module doc).
    """
    by_key = combine(needs)
    if not by_key:
        return
    keys = sorted(by_key)
    if not locked and not exist:
        ensure_units(session, by_key.values())
    if is_postgres(session):
        # The same two statements whatever the units (built once, the amounts sent as
        # arrays).  Unlocked: lock, then update, in one round trip: the CTE (never inlined:
        # it locks rows) takes the row locks in key order; the UPDATE re-checks each row's
        # committed ``used`` after any wait (READ COMMITTED), so the condition still decides.
        # The day load is written by the same statement (a CTE), with the changes of a
        # release just before; a take that falls short is rolled back with the savepoint.
        params = {
            "keys": keys,
            "amounts": [by_key[k].amount for k in keys],
            "capacities": [by_key[k].capacity for k in keys],
            "back_keys": [c[0] for c in given_back],
            "back_kinds": [c[1] for c in given_back],
            "back_days": [c[2] for c in given_back],
            "back_amounts": [c[3] for c in given_back],
        }
        changed = set(session.scalars(_PG_TAKE if locked else _PG_LOCK_AND_TAKE, params))
    else:
        amount = case({k: n.amount for k, n in by_key.items()}, value=UNITS.c.key)
        cap = case({k: n.capacity for k, n in by_key.items()}, value=UNITS.c.key)
        changed = set(
            session.scalars(
                update(UNITS)
                .where(UNITS.c.key.in_(keys), UNITS.c.used + amount <= cap)
                .values(used=UNITS.c.used + amount, capacity=cap)
                .returning(UNITS.c.key)
                .execution_options(synchronize_session=False)
            )
        )
    if len(changed) != len(by_key):
        if checked:
            # The caller checked these rows under its own lock: a miss is a broken invariant,
            # and the whole transaction must roll back (a savepoint of the caller may not exist).
            raise LedgerError(f"units changed under a lock: {sorted(by_key)}")
        # Name a day-wide unit first: when it is full, another advisor cannot help.
        full = sorted(
            (n for k, n in by_key.items() if k not in changed),
            key=lambda n: (n.kind == "reception", n.key),
        )[0]
        raise SlotTaken(f"that time was just taken ({full.kind} {full.key} is full)", full.key)
    if not is_postgres(session):
        changes = [*given_back, *((n.key, n.kind, n.day, n.amount) for n in by_key.values())]
        load.apply(session, changes)


def _pg_take(*, lock: bool) -> Any:
    """PostgreSQL's take: ``used += amount`` where it fits, per key, from three arrays, and
    the day load of what it took (and of ``back_*``, a release's changes) in one statement.

    Locking: the CTE of the unit rows in key order (never inlined: it locks rows) is read by
    the UPDATE, so it runs first; the UPDATE re-checks each row's committed ``used`` after any
    wait (READ COMMITTED), so the condition still decides.  Returns the keys taken.
    """
    locked = (
        "locked_units AS (SELECT capacity_units.key FROM capacity_units"
        " WHERE capacity_units.key = ANY (CAST(:keys AS VARCHAR[]))"
        " ORDER BY capacity_units.key FOR NO KEY UPDATE), "
        if lock
        else ""
    )
    sql = (  # the code's own SQL, built once at import: no value goes into the text
        f"WITH {locked}"  # noqa: S608
        "wanted AS (SELECT * FROM unnest(CAST(:keys AS VARCHAR[]), CAST(:amounts AS INTEGER[]),"
        " CAST(:capacities AS INTEGER[])) AS wanted(key, amount, capacity)),"
        " taken AS (UPDATE capacity_units SET used = capacity_units.used + wanted.amount,"
        " capacity = wanted.capacity"
        f" FROM wanted{', locked_units' if lock else ''}"
        " WHERE capacity_units.key = wanted.key"
        " AND capacity_units.used + wanted.amount <= wanted.capacity"
        f"{' AND capacity_units.key = locked_units.key' if lock else ''}"
        " RETURNING capacity_units.key, capacity_units.kind, capacity_units.day, wanted.amount),"
        " changes AS (SELECT key, kind, day, amount FROM taken UNION ALL"
        " SELECT * FROM unnest(CAST(:back_keys AS VARCHAR[]), CAST(:back_kinds AS VARCHAR[]),"
        " CAST(:back_days AS DATE[]), CAST(:back_amounts AS INTEGER[]))"
        " AS back(key, kind, day, amount)), "
        f"{load.pg_upsert_from('changes')}"
        " SELECT key FROM taken"
    )
    return text(sql)


_HELD_BY = TAKES.c.hold_id == any_(bindparam("hold_ids", type_=ARRAY(Integer)))
# The units some holds took, locked in key order (see release).
_PG_LOCK_HELD = _locking(UNITS.c.key.in_(select(TAKES.c.unit_key).where(_HELD_BY)))

_PG_TAKE = _pg_take(lock=False)  # the caller has locked the rows
_PG_LOCK_AND_TAKE = _pg_take(lock=True)


def _pg_give_back_held(*, write_load: bool) -> Any:
    """PostgreSQL's give-back of some holds' takes, the units already locked: the take rows
    deleted (only what the DELETE removed goes back, so two releases give back once), their
    amounts taken off the units and, with ``write_load``, the day load changed, in one
    statement.  Rows: each unit's key, kind, day, amount given back and takes deleted."""
    sql = (
        "WITH gone AS (DELETE FROM capacity_takes"
        " WHERE capacity_takes.hold_id = ANY (CAST(:hold_ids AS INTEGER[]))"
        " RETURNING capacity_takes.unit_key, capacity_takes.amount),"
        " back AS (SELECT unit_key AS key, sum(amount) AS amount, count(*) AS takes"
        " FROM gone GROUP BY unit_key),"
        " given AS (UPDATE capacity_units SET used = capacity_units.used - back.amount"
        " FROM back WHERE capacity_units.key = back.key"
        " RETURNING capacity_units.key, capacity_units.kind, capacity_units.day,"
        " back.amount, back.takes)"
    )
    if write_load:
        sql += (
            ", changes AS (SELECT key, kind, day, -amount AS amount FROM given), "  # noqa: S608
            + load.pg_upsert_from("changes")
        )
    return text(sql + " SELECT key, kind, day, amount, takes FROM given ORDER BY key")  # noqa: S608


_PG_GIVE_BACK_HELD = _pg_give_back_held(write_load=True)
_PG_GIVE_BACK_HELD_PENDING = _pg_give_back_held(write_load=False)

_GIVEN = (
    func.unnest(bindparam("keys", type_=ARRAY(String)), bindparam("amounts", type_=ARRAY(Integer)))
    .table_valued("key", "amount")
    .render_derived(name="given")
)
# PostgreSQL's give-back: ``used -= amount`` per key, from two arrays (built once).
_PG_GIVE_BACK = (
    update(UNITS)
    .where(UNITS.c.key == _GIVEN.c.key)
    .values(used=UNITS.c.used - _GIVEN.c.amount)
    .returning(UNITS.c.key, UNITS.c.kind, UNITS.c.day)
    .execution_options(synchronize_session=False)
)


def record(
    session: Session,
    needs: Sequence[UnitNeed],
    *,
    hold_id: int | None = None,
    appointment_id: int | None = None,
) -> None:
    """Remember which owner took the claimed units, so :func:`release` can give them back."""
    _owner(hold_id, appointment_id)
    record_rows(
        session,
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


def record_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if len(rows) > 1 and is_postgres(session):
        # One statement, not an executemany (psycopg's pipeline costs more CPU than it saves
        # for a few rows): the columns sent as arrays.
        session.execute(_PG_RECORD, {name: [r[name] for r in rows] for name in _TAKE_COLUMNS})
        return
    session.execute(TAKES.insert(), rows)


_TAKE_COLUMNS = ("unit_key", "amount", "hold_id", "appointment_id")
_PG_RECORD = TAKES.insert().from_select(
    list(_TAKE_COLUMNS),
    unnested(
        {"unit_key": String, "amount": Integer, "hold_id": Integer, "appointment_id": Integer},
        "taken",
    ),
)


def held_keys(owner: Any) -> Any:
    """A SELECT of the unit keys that the owners matched by ``owner`` (a WHERE clause) took."""
    return select(TAKES.c.unit_key).where(owner)


def owned_keys(
    session: Session, *, hold_id: int | None = None, appointment_id: int | None = None
) -> list[str]:
    return list(session.scalars(held_keys(_owner(hold_id, appointment_id))))


def release(
    session: Session,
    *,
    hold_id: int | None = None,
    appointment_id: int | None = None,
    hold_ids: Sequence[int] | None = None,
    locked: bool = False,
    pending: list[load.Change] | None = None,
) -> int:
    """Give back every unit some owners hold; returns how many takes were given back.

    ``pending``: the day load's changes are added to this list instead of written, for a
    :func:`claim` that follows in the same savepoint to write them with its own.

    The take rows are deleted first and only what the DELETE removed is given back (RETURNING),
    so two concurrent releases of the same owner give back once.  ``locked``: the caller has
    already locked the units (in key order).
    """
    if hold_ids is not None and not hold_ids:
        return 0
    if hold_ids is not None and is_postgres(session):
        # The common case (holds given back), with statements built once: the units locked
        # in key order first, then one statement deletes the takes, gives their amounts back
        # and writes the day load (unless ``pending`` wants the changes).
        ids = {"hold_ids": list(hold_ids)}
        if not locked:
            session.execute(_PG_LOCK_HELD, ids)
        count = 0
        statement = _PG_GIVE_BACK_HELD if pending is None else _PG_GIVE_BACK_HELD_PENDING
        for key, kind, day, amount, takes in session.execute(statement, ids):
            count += takes
            if pending is not None:
                pending.append((key, kind, day, -amount))
        return count
    else:
        owner: ColumnElement[bool] = (
            TAKES.c.hold_id.in_(list(hold_ids))
            if hold_ids is not None
            else _owner(hold_id, appointment_id)
        )
        if not locked:
            lock_units(session, (), also_held_by=held_keys(owner))
        gone = session.execute(
            delete(TAKES).where(owner).returning(TAKES.c.unit_key, TAKES.c.amount)
        )
    back: dict[str, int] = {}
    count = 0
    for key, amount in gone:
        back[key] = back.get(key, 0) + amount
        count += 1
    if back:
        if is_postgres(session):
            keys = sorted(back)
            given = session.execute(
                _PG_GIVE_BACK, {"keys": keys, "amounts": [back[k] for k in keys]}
            )
        else:
            given = session.execute(
                update(UNITS)
                .where(UNITS.c.key.in_(sorted(back)))
                .values(used=UNITS.c.used - case(back, value=UNITS.c.key))
                .returning(UNITS.c.key, UNITS.c.kind, UNITS.c.day)
                .execution_options(synchronize_session=False)
            )
        changes = [(key, kind, day, -back[key]) for key, kind, day in given]
        if pending is None:
            load.apply(session, changes)
        else:
            pending.extend(changes)
    return count


def usage(session: Session, first: date, last: date) -> dict[str, int]:
    """``used`` of every unit in use from local day ``first`` to ``last`` inclusive.

    Read from the day load (:mod:`outreach.capacity.load`), a few rows per day; units at zero
    are left out (a missing key reads as 0).
    """
    return load.usage(session, first, last)


def _owner(hold_id: int | None, appointment_id: int | None) -> ColumnElement[bool]:
    if (hold_id is None) == (appointment_id is None):
        raise ValueError("name exactly one owner: hold_id or appointment_id")
    if hold_id is not None:
        return TAKES.c.hold_id == hold_id
    return TAKES.c.appointment_id == appointment_id
