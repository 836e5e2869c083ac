"""desk: the deferred items an offer named become the appointment's job lines, with their price

Revision ID: desk_job_lines
Revises: delivery_provider_breaker
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "desk_job_lines"
down_revision: str | None = "delivery_provider_breaker"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_job_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("deferred_item_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Numeric(10, 2, asdecimal=False), nullable=True),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"]),
        sa.ForeignKeyConstraint(["deferred_item_id"], ["deferred_items.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appointment_id", "deferred_item_id", name="uq_job_line_item"),
    )
    op.create_index(
        "ix_appointment_job_lines_appointment_id", "appointment_job_lines", ["appointment_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_appointment_job_lines_appointment_id", table_name="appointment_job_lines")
    op.drop_table("appointment_job_lines")
