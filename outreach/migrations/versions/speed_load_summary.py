"""capacity: the day load, per local day and unit kind, that offers read instead of the units

Revision ID: speed_load_summary
Revises: edges_hashed_webhook_keys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "speed_load_summary"
down_revision: str | None = "edges_hashed_webhook_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The units in use, counted into their (day, kind) rows: the same figures the ledger keeps.
FILL = {
    "postgresql": (
        "INSERT INTO capacity_day_load (day, kind, used, detail)"
        " SELECT day, kind, sum(used), jsonb_object_agg(key, used)"
        " FROM capacity_units WHERE used <> 0 GROUP BY day, kind"
    ),
    "sqlite": (
        "INSERT INTO capacity_day_load (day, kind, used, detail)"
        " SELECT day, kind, sum(used), json_group_object(key, used)"
        " FROM capacity_units WHERE used <> 0 GROUP BY day, kind"
    ),
}


def upgrade() -> None:
    op.create_table(
        "capacity_day_load",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.CheckConstraint("used >= 0", name="capacity_day_load_used"),
        sa.CheckConstraint(
            "kind IN ('reception', 'arrivals', 'labour', 'resource')", name="capacity_day_load_kind"
        ),
        sa.PrimaryKeyConstraint("day", "kind"),
    )
    op.execute(FILL[op.get_bind().dialect.name])


def downgrade() -> None:
    op.drop_table("capacity_day_load")
