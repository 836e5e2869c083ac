"""visits.csv → visits and the advisors they name, then each touched vehicle's history.

The odometer rule needs every reading of a vehicle, wherever it stands in the file, before a
row is accepted.  So the file is read in three passes over a scratch copy, a batch at a time:
the parsed rows are staged (:class:`~outreach.importer.scratch.Scratch`); the rule is checked
vehicle by vehicle against the staged and the stored readings; the rows it accepts are written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import insert, select, update

from outreach.history import refresh_history
from outreach.importer import cells as parse
from outreach.importer.cells import CellError, Cells
from outreach.importer.context import Context, TableSpec
from outreach.importer.odometer import Entry, conflicts
from outreach.importer.table import BATCH
from outreach.models import Advisor, Visit

FILE = "visits.csv"
FIELDS = ("vehicle_id", "visited_on", "odometer_km", "type", "advisor_id")
VEHICLES_AT_ONCE = 1000  # vehicles whose readings are checked together
HISTORY_BATCH = 5000


def run(ctx: Context) -> None:
    names = _stage(ctx)
    _check_odometers(ctx)
    advisors = _advisors(ctx, names)
    _write(ctx, advisors)


def _stage(ctx: Context) -> dict[str, str]:
    """Parse every row into the scratch table; the advisors' names by code."""
    table = ctx.table(FILE)
    names: dict[str, str] = {}
    staged: list[tuple[object, ...]] = []
    sql = "INSERT INTO staged_visits VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)"
    for external_id, (line, vehicle_id, on, km, kind, advisor, advisor_name) in ctx.parsed(
        FILE, lambda line, _id, cells: _parse(ctx, line, cells)
    ):
        before = table.current(external_id)
        old_vehicle = before["vehicle_id"] if before is not None else None
        staged.append(
            (external_id, line, vehicle_id, old_vehicle, on.toordinal(), km, kind, advisor)
        )
        if advisor and (advisor_name or advisor not in names):
            names[advisor] = advisor_name or names.get(advisor, "")
        if len(staged) >= BATCH:
            ctx.scratch.executemany(sql, staged)
            staged.clear()
    ctx.scratch.executemany(sql, staged)
    return names


def _parse(
    ctx: Context, line: int, cells: Cells
) -> tuple[int, int, date, int | None, str, str, str]:
    vehicle_id = ctx.resolve(cells, "vehicle_id", "vehicles.csv", "vehicle")
    on = cells.parse("date", parse.day)
    if on > ctx.today:
        raise CellError("date", f"{on} is in the future")
    km = cells.parse("odometer_km", parse.odometer, None)
    return (
        line,
        vehicle_id,
        on,
        km,
        cells.parse("type", parse.visit_type),
        cells.text("advisor", 40, required=False),
        cells.text("advisor_name", 120, required=False),
    )


def _check_odometers(ctx: Context) -> None:
    """Reject the staged readings that break the rule, a few vehicles at a time.

    In rounds: each round checks each vehicle once against the rows as they stood when the
    round began; a vehicle with a new rejection, and the vehicle a rejected visit was moved
    from (its stored reading counts again there), are checked in the next round, until
    nothing new is rejected.
    """
    groups: Iterable[list[int]] = (
        [row[0] for row in page]
        for page in ctx.scratch.pages(
            "SELECT DISTINCT vehicle_id FROM staged_visits WHERE vehicle_id > ? "
            "ORDER BY vehicle_id LIMIT ?",
            VEHICLES_AT_ONCE,
        )
    )
    round_ = 1
    while True:
        dirty: set[int] = set()
        for vehicles in groups:
            dirty |= _check_round(ctx, vehicles, round_)
        if not dirty:
            return
        ordered = sorted(dirty)
        groups = (
            ordered[start : start + VEHICLES_AT_ONCE]
            for start in range(0, len(ordered), VEHICLES_AT_ONCE)
        )
        round_ += 1


def _check_round(ctx: Context, vehicles: list[int], round_: int) -> set[int]:
    """Round ``round_`` for ``vehicles``; the vehicles to check in the next round.

    ``rejected`` holds the round a staged row was rejected in (0: not rejected), so rows
    rejected earlier in this round still count as they stood when the round began.
    """
    incoming: dict[int, list[Entry]] = defaultdict(list)
    staged: dict[str, tuple[int, int, int | None]] = {}  # visit -> line, vehicle, old vehicle
    for visit, vehicle_id, day, km, line, old_vehicle in ctx.scratch.where_in(
        "SELECT visit, vehicle_id, day, km, line, old_vehicle_id FROM staged_visits "
        "WHERE vehicle_id IN ({marks}) AND (rejected = 0 OR rejected = ?)",
        vehicles,
        round_,
    ):
        staged[visit] = (line, vehicle_id, old_vehicle)
        if km is not None:
            incoming[vehicle_id].append((date.fromordinal(day), km, visit, True))
    stored_rows = ctx.session.execute(
        select(Visit.external_id, Visit.vehicle_id, Visit.visited_on, Visit.odometer_km).where(
            Visit.vehicle_id.in_(vehicles), Visit.odometer_km.is_not(None)
        )
    ).all()
    # A stored visit that a staged row replaces (on whichever vehicle) does not count.
    replaced = set(staged)
    replaced.update(
        row[0]
        for row in ctx.scratch.where_in(
            "SELECT visit FROM staged_visits "
            "WHERE visit IN ({marks}) AND (rejected = 0 OR rejected = ?)",
            [row[0] for row in stored_rows if row[0] not in staged],
            round_,
        )
    )
    pools: dict[int, list[Entry]] = defaultdict(list)
    for visit, vehicle_id, on, km in stored_rows:
        if visit not in replaced and km is not None:
            pools[vehicle_id].append((on, km, visit, False))
    dirty: set[int] = set()
    for vehicle_id, entries in incoming.items():
        for visit, reason in conflicts(pools[vehicle_id] + entries).items():
            line, _, old_vehicle = staged[visit]
            ctx.scratch.execute(
                "UPDATE staged_visits SET rejected = ? WHERE visit = ?", (round_, visit)
            )
            ctx.reject(FILE, line, "odometer_km", reason, visit)
            dirty.add(vehicle_id)
            if old_vehicle is not None:
                dirty.add(old_vehicle)
    return dirty


def _write(ctx: Context, advisors: dict[str, int]) -> None:
    """Upsert the accepted rows, then rebuild the history of every vehicle they touched."""
    table = ctx.table(FILE)
    pages = ctx.scratch.pages(
        "SELECT rowid, visit, vehicle_id, day, km, type, advisor FROM staged_visits "
        "WHERE rowid > ? AND rejected = 0 ORDER BY rowid LIMIT ?",
        BATCH,
    )
    for page in pages:
        table.load(row[1] for row in page)
        touched: list[tuple[int]] = []
        for _, visit, vehicle_id, day, km, kind, advisor in page:
            before = table.current(visit)
            values = {
                "vehicle_id": vehicle_id,
                "visited_on": date.fromordinal(day),
                "odometer_km": km,
                "type": kind,
                "advisor_id": advisors.get(advisor),
            }
            if table.put(visit, values) != "unchanged":
                touched.append((vehicle_id,))
                if before is not None:
                    touched.append((before["vehicle_id"],))  # it may have moved
        table.forget()
        ctx.scratch.executemany("INSERT OR IGNORE INTO touched_vehicles VALUES (?)", touched)
    for page in ctx.scratch.pages(
        "SELECT vehicle_id FROM touched_vehicles WHERE vehicle_id > ? ORDER BY vehicle_id LIMIT ?",
        HISTORY_BATCH,
    ):
        refresh_history(ctx.session, [row[0] for row in page])


def _advisors(ctx: Context, names: dict[str, str]) -> dict[str, int]:
    """Advisor ids by code; unknown codes are created, named by ``advisor_name`` (or the code)."""
    if not names:
        return {}
    known = {
        code: (advisor_id, name)
        for code, advisor_id, name in ctx.session.execute(
            select(Advisor.code, Advisor.id, Advisor.name)
        )
    }
    new = [
        {"code": code, "name": name or code} for code, name in names.items() if code not in known
    ]
    renamed = [
        {"id": known[code][0], "name": name}
        for code, name in names.items()
        if code in known and name and name != known[code][1]
    ]
    ids = {code: advisor_id for code, (advisor_id, _) in known.items()}
    if new:
        statement = insert(Advisor).returning(Advisor.code, Advisor.id)
        ids.update({code: advisor_id for code, advisor_id in ctx.session.execute(statement, new)})
        ctx.report.advisors_created += len(new)
    if renamed:
        ctx.session.execute(update(Advisor), renamed)
    return ids


SPEC = TableSpec(
    file=FILE,
    model=Visit,
    id_column="visit_id",
    required=("visit_id", "vehicle_id", "date", "odometer_km", "type"),
    optional=("advisor", "advisor_name"),
    fields=FIELDS,
    run=run,
    refs=(("vehicle_id", "vehicles.csv"),),
)
