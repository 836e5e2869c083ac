"""visits.csv → visits and the advisors they name, then each touched vehicle's history.

Unlike the other files, the parsed rows are held until the end of the file: the odometer rule
needs every reading of a vehicle, wherever it stands in the file, before a row is accepted.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import insert, select, update

from outreach.history import refresh_history
from outreach.importer import cells as parse
from outreach.importer.cells import CellError, Cells
from outreach.importer.context import Context, TableSpec
from outreach.importer.odometer import Reading, decreasing
from outreach.models import Advisor, Visit

FILE = "visits.csv"
FIELDS = ("vehicle_id", "visited_on", "odometer_km", "type", "advisor_id")


class Parsed(NamedTuple):
    line: int
    reading: Reading
    type: str
    advisor: str
    advisor_name: str


def run(ctx: Context) -> None:
    table = ctx.table(FILE)
    parsed = dict(ctx.parsed(FILE, functools.partial(_parse, ctx)))
    stored = {
        external_id: Reading(external_id, row[0], row[1], row[2])
        for external_id, row in table.rows.items()
    }
    bad = decreasing(stored, {external_id: p.reading for external_id, p in parsed.items()})
    for external_id, reason in bad.items():
        ctx.reject(FILE, parsed.pop(external_id).line, "odometer_km", reason, external_id)
    advisors = _advisors(ctx, parsed.values())
    touched: set[int] = set()
    for external_id, p in parsed.items():
        before = table.rows.get(external_id)
        values = {
            "vehicle_id": p.reading.vehicle_id,
            "visited_on": p.reading.on,
            "odometer_km": p.reading.km,
            "type": p.type,
            "advisor_id": advisors.get(p.advisor),
        }
        if table.put(external_id, values) != "unchanged":
            touched.add(p.reading.vehicle_id)
            if before is not None:
                touched.add(before[0])  # the visit may have moved from another vehicle
    table.flush()
    if touched:
        refresh_history(ctx.session, touched)


def _parse(ctx: Context, line: int, external_id: str, cells: Cells) -> Parsed:
    vehicle_id = ctx.resolve(cells, "vehicle_id", "vehicles.csv", "vehicle")
    on = cells.parse("date", parse.day)
    if on > ctx.today:
        raise CellError("date", f"{on} is in the future")
    km = cells.parse("odometer_km", parse.odometer, None)
    return Parsed(
        line,
        Reading(external_id, vehicle_id, on, km),
        cells.parse("type", parse.visit_type),
        cells.text("advisor", 40, required=False),
        cells.text("advisor_name", 120, required=False),
    )


def _advisors(ctx: Context, rows: Iterable[Parsed]) -> dict[str, int]:
    """Advisor ids by code; unknown codes are created, named by ``advisor_name`` (or the code)."""
    names: dict[str, str] = {}
    for p in rows:
        if p.advisor and (p.advisor_name or p.advisor not in names):
            names[p.advisor] = p.advisor_name or names.get(p.advisor, "")
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
)
