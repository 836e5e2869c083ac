"""The day load: per local day and unit kind, the ledger units in use, kept in step with them.

``capacity_day_load`` has one row per (day, kind) — reception, arrivals, labour, resource —
holding ``{unit key: used}`` of that day's units of that kind that are in use, and their sum.
An offer reads these few rows per day instead of every unit row of the horizon, so finding
slots reads O(days) rows whatever the size of the workshop (see docs/capacity.md).

In step, never drifting: the ledger changes a unit's ``used`` only in :func:`ledger.claim
<outreach.capacity.ledger.claim>` and :func:`ledger.release
<outreach.capacity.ledger.release>`, and each passes exactly the amounts it changed to
:func:`apply`, in the same transaction (and savepoint): if the change rolls back, so does the
load.  On PostgreSQL they write it within their own statement instead, with the same upsert
as a CTE (:func:`pg_upsert_from`): one round trip for the units and the load.
:func:`apply` is one upsert that adds the amounts to the stored JSON in the database, so
nothing is read back first; the row lock it takes is only ever waited for by a change of
the same day, which already waits for that day's labour unit.  The CHECK ``used >= 0``
refuses a give-back that was never taken.  :func:`recount` derives the same figures from the
unit rows, for the tests and ``rebuild``.

The locked, conditional UPDATE of the unit rows stays the only guard against overbooking:
the load is for reading.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from sqlalchemy import Date, Integer, String, Table, bindparam, delete, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from outreach.db import unnested
from outreach.models.capacity import CapacityDayLoad, CapacityUnit

LOAD = cast(Table, CapacityDayLoad.__table__)  # Core statements on the table itself
UNITS = cast(Table, CapacityUnit.__table__)

# The stored detail with the changed keys set to their new values (the stored value plus the
# change) and those back at 0 removed, the other keys left alone.  One expression per
# dialect, evaluated by the database inside the upsert: no read, no second round trip.
_MERGE = {
    "postgresql": (
        "(SELECT (capacity_day_load.detail"
        " || coalesce(jsonb_object_agg(e.key, e.n) FILTER (WHERE e.n <> 0), '{}'))"
        " - coalesce(array_agg(e.key) FILTER (WHERE e.n = 0), '{}')"
        " FROM (SELECT key, coalesce((capacity_day_load.detail ->> key)::int, 0)"
        " + value::int AS n FROM jsonb_each_text(excluded.detail)) AS e)"
    ),
    "sqlite": (  # json_patch removes the keys set to null
        "json_patch(capacity_day_load.detail, (SELECT json_group_object(e.key, nullif(e.n, 0))"
        " FROM (SELECT key, coalesce(json_extract(capacity_day_load.detail,"
        " '$.\"' || key || '\"'), 0) + value AS n FROM json_each(excluded.detail)) AS e))"
    ),
}

# The sum of the new detail: the proposed row's ``used`` cannot carry it, as a give-back's
# negative sum would fail the CHECK on the proposed row before the conflict is seen.
_ADDED = {
    "postgresql": "(SELECT sum(value::int) FROM jsonb_each_text(excluded.detail))",
    "sqlite": "(SELECT sum(value) FROM json_each(excluded.detail))",
}

Change = tuple[str, str, date, int]  # (unit key, kind, local day, amount added; < 0 gives back)


def apply(session: Session, changes: Iterable[Change]) -> None:
    """Add each change's amount to its unit's entry in the day load, in one statement."""
    by_row: dict[tuple[date, str], dict[str, int]] = {}
    for key, kind, day, amount in changes:
        if amount:
            row = by_row.setdefault((day, kind), {})
            row[key] = row.get(key, 0) + amount
    netted = {row: {k: n for k, n in amounts.items() if n} for row, amounts in by_row.items()}
    rows = [
        {
            "day": day,
            "kind": kind,
            "used": max(0, sum(amounts.values())),  # a new row: only ever taken, never given
            "detail": amounts,
        }
        for (day, kind), amounts in sorted(netted.items())  # one row order: no lock cycles
        if amounts
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # One statement for every row, not an executemany: the rows sent as arrays.
        session.execute(_PG_UPSERT, {name: [r[name] for r in rows] for name in _COLUMNS})
        return
    session.execute(_UPSERT[dialect], rows)


def _upsert(insert: Any, dialect: str, rows: Any = None) -> Any:
    """The upsert of :func:`apply` for ``dialect``, built once; ``rows``: a SELECT of the rows
    to insert (else they are the statement's parameters)."""
    stmt = insert(LOAD) if rows is None else insert(LOAD).from_select(list(_COLUMNS), rows)
    return stmt.on_conflict_do_update(
        index_elements=[LOAD.c.day, LOAD.c.kind],
        set_={
            "used": LOAD.c.used + literal_column(_ADDED[dialect]),
            "detail": literal_column(_MERGE[dialect]),
        },
    )


_UPSERT = {
    "postgresql": _upsert(pg_insert, "postgresql"),
    "sqlite": _upsert(sqlite_insert, "sqlite"),
}
_COLUMNS = ("day", "kind", "used", "detail")
# In the rows' order (sorted by day and kind): INSERT … SELECT keeps it.
_PG_UPSERT = _upsert(
    pg_insert,
    "postgresql",
    unnested({"day": Date, "kind": String, "used": Integer, "detail": JSONB}, "changed"),
)


def pg_upsert_from(changes: str) -> str:
    """PostgreSQL: the CTEs that write to the day load the changes of CTE ``changes``
    (columns key, kind, day, amount), as :func:`apply` does, for a statement that also makes
    those changes (:mod:`outreach.capacity.ledger`): netted per key, zeros left out, one row
    per (day, kind) in that order, added to the stored ones in the database."""
    return (
        f"load_netted AS (SELECT day, kind, key, sum(amount) AS n FROM {changes}"  # noqa: S608
        " GROUP BY day, kind, key HAVING sum(amount) <> 0),"
        " load_rows AS (SELECT day, kind, greatest(0, sum(n)) AS used,"
        " jsonb_object_agg(key, n) AS detail FROM load_netted GROUP BY day, kind),"
        " load_written AS (INSERT INTO capacity_day_load (day, kind, used, detail)"
        " SELECT day, kind, used, detail FROM load_rows ORDER BY day, kind"
        " ON CONFLICT (day, kind) DO UPDATE SET"
        f" used = capacity_day_load.used + {_ADDED['postgresql']},"
        f" detail = {_MERGE['postgresql']})"
    )


DayLoads = dict[date, dict[str, dict[str, int]]]  # {day: {kind: {unit key: used}}}


def by_day(session: Session, first: date, last: date) -> DayLoads:
    """The units in use from local day ``first`` to ``last`` inclusive, by day and kind.

    A few rows per day, whatever the number of units; units at zero are left out.
    """
    out: DayLoads = {}
    for day, kind, detail in session.execute(_BY_DAY, {"first": first, "last": last}).all():
        out.setdefault(day, {})[kind] = parse(detail)
    return out


# Built once (every offer runs it).
_BY_DAY = select(LOAD.c.day, LOAD.c.kind, LOAD.c.detail).where(
    LOAD.c.day >= bindparam("first", type_=Date),
    LOAD.c.day <= bindparam("last", type_=Date),
    LOAD.c.used != 0,
)


def usage(session: Session, first: date, last: date) -> dict[str, int]:
    """``used`` of every unit in use from ``first`` to ``last``, by key (see :func:`by_day`);
    a missing key reads as 0."""
    return flatten(by_day(session, first, last))


def parse(detail: dict[str, int]) -> dict[str, int]:
    """The ``{unit key: used}`` of one stored ``detail``, units at zero left out."""
    return {key: used for key, used in detail.items() if used}


def flatten(loads: DayLoads) -> dict[str, int]:
    return {
        key: used
        for kinds in loads.values()
        for units in kinds.values()
        for key, used in units.items()
    }


def stored(session: Session) -> dict[tuple[date, str], dict[str, int]]:
    """The day load as stored: ``{(day, kind): {key: used}}``, rows with nothing in use left out."""
    out: dict[tuple[date, str], dict[str, int]] = {}
    for day, kind, used, detail in session.execute(
        select(LOAD.c.day, LOAD.c.kind, LOAD.c.used, LOAD.c.detail)
    ):
        amounts = parse(detail)
        if sum(amounts.values()) != used:
            raise ValueError(f"capacity_day_load {day} {kind}: used {used} but detail sums up")
        if amounts:
            out[(day, kind)] = amounts
    return out


def recount(session: Session) -> dict[tuple[date, str], dict[str, int]]:
    """The day load counted afresh from the unit rows, in the form of :func:`stored`."""
    out: dict[tuple[date, str], dict[str, int]] = {}
    for key, kind, day, used in session.execute(
        select(UNITS.c.key, UNITS.c.kind, UNITS.c.day, UNITS.c.used).where(UNITS.c.used != 0)
    ):
        out.setdefault((day, kind), {})[key] = used
    return out


def rebuild(session: Session) -> int:
    """Replace the day load by a recount from the unit rows; returns the rows written.

    For a database whose units were changed outside the ledger; the ledger itself never
    needs it.  Take the units' locks first if other transactions may be changing them.
    """
    session.execute(delete(LOAD))
    counted = recount(session)
    rows = [
        {"day": day, "kind": kind, "used": sum(a.values()), "detail": a}
        for (day, kind), a in sorted(counted.items())
    ]
    if rows:
        session.execute(LOAD.insert(), rows)
    return len(rows)
