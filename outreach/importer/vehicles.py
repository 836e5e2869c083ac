"""vehicles.csv → vehicles, each of a customer from customers.csv or already stored."""

from __future__ import annotations

import re
from typing import Any

from outreach.importer import cells as parse
from outreach.importer.cells import Cells
from outreach.importer.context import Context, TableSpec
from outreach.models import Vehicle

FILE = "vehicles.csv"
FIELDS = ("customer_id", "vin", "plate", "model", "model_year", "active")
_VIN = re.compile(r"[A-Z0-9]{1,17}")


def run(ctx: Context) -> None:
    table = ctx.table(FILE)
    for external_id, values in ctx.parsed(FILE, lambda _line, _id, cells: _values(ctx, cells)):
        table.put(external_id, values)
    table.flush()


def vin(value: str) -> str:
    folded = value.upper()
    if not _VIN.fullmatch(folded):
        raise ValueError(f"not a VIN (up to 17 letters and digits): {value!r}")
    return folded


def _values(ctx: Context, cells: Cells) -> dict[str, Any]:
    return {
        "customer_id": ctx.resolve(cells, "customer_id", "customers.csv", "customer"),
        "vin": cells.parse("vin", vin),
        "plate": cells.text("plate", 20),
        "model": cells.text("model", 120),
        "model_year": cells.parse("model_year", parse.whole(1900, ctx.today.year + 2), None),
        "active": cells.parse("active", parse.flag, True),
    }


SPEC = TableSpec(
    file=FILE,
    model=Vehicle,
    id_column="vehicle_id",
    required=("vehicle_id", "customer_id", "vin", "plate", "model"),
    optional=("model_year", "active"),
    fields=FIELDS,
    run=run,
    refs=(("customer_id", "customers.csv"),),
)
