"""deferred_work.csv → deferred items: work declined or put off at a visit, or found in a repair."""

from __future__ import annotations

from typing import Any

from outreach.importer import cells as parse
from outreach.importer.cells import CellError, Cells
from outreach.importer.context import Context, TableSpec
from outreach.models import DeferredItem

FILE = "deferred_work.csv"
FIELDS = (
    "vehicle_id",
    "visit_id",
    "description",
    "severity",
    "due_by",
    "found_during_repair",
    "done_at",
)


def run(ctx: Context) -> None:
    table = ctx.table(FILE)
    rows = ctx.parsed(
        FILE, lambda _line, external_id, cells: _values(ctx, cells, table.current(external_id))
    )
    for external_id, values in rows:
        table.put(external_id, values)
    table.flush()


def _values(ctx: Context, cells: Cells, current: dict[str, Any] | None) -> dict[str, Any]:
    vehicle_id = ctx.resolve(cells, "vehicle_id", "vehicles.csv", "vehicle")
    visit_id = None
    if cells.raw("visit_id"):
        visit_id = ctx.resolve(cells, "visit_id", "visits.csv", "visit")
        visit = ctx.table("visits.csv").current(cells.raw("visit_id"))
        if visit is None or visit["vehicle_id"] != vehicle_id:
            raise CellError(
                "visit_id",
                f"visit {cells.raw('visit_id')!r} is not a visit of vehicle "
                f"{cells.raw('vehicle_id')!r}",
            )
    done_on = cells.parse("done_on", parse.day, None)
    # Work the product marked done stays done: an export that omits it reopens nothing.
    done_at = current["done_at"] if current is not None else None
    if done_on is not None and done_at is None:
        done_at = parse.start_of_day(done_on, ctx.settings.dealership.timezone)
    return {
        "vehicle_id": vehicle_id,
        "visit_id": visit_id,
        "description": cells.text("description"),
        "severity": cells.parse("severity", parse.severity),
        "due_by": cells.parse("due_by", parse.day),
        "found_during_repair": cells.parse("found_during_repair", parse.flag, False),
        "done_at": done_at,
    }


SPEC = TableSpec(
    file=FILE,
    model=DeferredItem,
    id_column="item_id",
    required=("item_id", "vehicle_id", "visit_id", "description", "severity", "due_by"),
    optional=("found_during_repair", "done_on"),
    fields=FIELDS,
    run=run,
    refs=(("vehicle_id", "vehicles.csv"), ("visit_id", "visits.csv")),
)
