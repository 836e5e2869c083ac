"""customers.csv → customers, with consent and opt-out that the product's own records outrank."""

from __future__ import annotations

from typing import Any

from outreach.consent import WRONG_NUMBER
from outreach.importer import cells as parse
from outreach.importer.cells import Cells
from outreach.importer.context import Context, TableSpec
from outreach.models import Customer

FILE = "customers.csv"
IMPORT_SOURCE = "dms import"  # consent_source / opt_out_source of states this importer set
CONSENT_FIELDS = ("consent", "consent_at", "consent_source", "opted_out_at", "opt_out_source")
FIELDS = ("name", "phone", "locale", "timezone", "preferred_channel", *CONSENT_FIELDS)


def run(ctx: Context) -> None:
    table = ctx.table(FILE)
    rows = ctx.parsed(
        FILE, lambda _line, external_id, cells: _values(ctx, cells, table.current(external_id))
    )
    for external_id, values in rows:
        stamp = {"updated_at": ctx.now}
        table.put(external_id, values, on_insert={"created_at": ctx.now, **stamp}, on_update=stamp)
    table.flush()


def product_owned(current: dict[str, Any] | None) -> bool:
    """Whether the product recorded this customer's consent or opt-out (SMS STOP, START …).

    A DMS export knows nothing of those, so an import never changes them.
    """
    if current is None:
        return False
    sources = (current["consent_source"], current["opt_out_source"])
    return any(source is not None and source != IMPORT_SOURCE for source in sources)


def _values(ctx: Context, cells: Cells, current: dict[str, Any] | None) -> dict[str, Any]:
    defaults = ctx.settings.import_defaults
    zone = cells.parse("timezone", parse.zone, defaults.timezone)
    values: dict[str, Any] = {
        "name": cells.text("name", 200),
        "phone": cells.parse("phone", parse.phone(defaults.phone_region)),
        "locale": cells.parse("locale", parse.locale),
        "timezone": zone,
        "preferred_channel": cells.parse(
            "preferred_channel", parse.channel, defaults.preferred_channel
        ),
    }
    # Parsed even when the product owns the state, so a bad cell is still reported.
    consent = cells.parse("consent", parse.flag, defaults.consent)
    consent_at = cells.parse("consent_at", parse.instant(zone), None)
    opted_out = cells.parse("opted_out", parse.flag, False)
    opted_out_at = cells.parse("opted_out_at", parse.instant(zone), None)
    if current is not None and product_owned(current):
        values.update({name: current[name] for name in CONSENT_FIELDS})
        if (current["opt_out_source"] or "").startswith(WRONG_NUMBER) and (
            values["phone"] != current["phone"]
        ):
            # Someone else answered the old number; the new one may be written to again.
            values.update(opted_out_at=None, opt_out_source=None)
        return values
    if consent:
        if consent_at is None and current is not None and current["consent"]:
            consent_at = current["consent_at"]  # keep when it was given: re-imports change nothing
        values.update(consent=True, consent_at=consent_at or ctx.now, consent_source=IMPORT_SOURCE)
    else:
        values.update(consent=False, consent_at=None, consent_source=IMPORT_SOURCE)
    if opted_out:
        if opted_out_at is None and current is not None:
            opted_out_at = current["opted_out_at"]
        values.update(opted_out_at=opted_out_at or ctx.now, opt_out_source=IMPORT_SOURCE)
    else:
        values.update(opted_out_at=None, opt_out_source=None)
    return values


SPEC = TableSpec(
    file=FILE,
    model=Customer,
    id_column="customer_id",
    required=("customer_id", "name", "phone", "locale"),
    optional=(
        "consent",
        "consent_at",
        "timezone",
        "preferred_channel",
        "opted_out",
        "opted_out_at",
    ),
    fields=FIELDS,
    run=run,
)
