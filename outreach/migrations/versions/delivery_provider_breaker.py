"""delivery: the provider's circuit breaker; the start of an unresolved send per outbox row

Revision ID: delivery_provider_breaker
Revises: speed_load_summary
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import outreach.db

revision: str = "delivery_provider_breaker"
down_revision: str | None = "speed_load_summary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(
            sa.Column("lookup_since", outreach.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "provider_breaker",
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("pause_seconds", sa.Float(), nullable=False),
        sa.Column("open_until", outreach.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", outreach.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("provider"),
    )


def downgrade() -> None:
    op.drop_table("provider_breaker")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("lookup_since")
