"""customers: the one way of contact a customer keeps to (only_channel)

"别打电话，短信联系就行" / "don't text, call me instead": calls refused and texts asked for (or
the reverse).  NULL, as every customer before this revision: both ways are open.

Revision ID: channel_kept_to
Revises: desk_job_lines
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "channel_kept_to"
down_revision: str | None = "desk_job_lines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("only_channel", sa.String(8), nullable=True))
        batch.create_check_constraint(
            "customer_only_channel", "only_channel IS NULL OR only_channel IN ('sms', 'voice')"
        )


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_constraint("customer_only_channel", type_="check")
        batch.drop_column("only_channel")
