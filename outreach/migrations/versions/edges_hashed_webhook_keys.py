"""edges: handled-once keys are stored as their SHA-256 (hex), never cut

Rows written before keep working: their key is replaced by its hash, which is what a retried
copy of the same request now looks up.  (Keys cut at 120 characters before this revision
cannot be recovered; they are hashed as stored.)

Revision ID: edges_hashed_webhook_keys
Revises: desk_tokens_sign_in
"""

import hashlib
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "edges_hashed_webhook_keys"
down_revision: str | None = "desk_tokens_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
HASHED = re.compile(r"[0-9a-f]{64}")
events = sa.table("webhook_events", sa.column("id", sa.Integer), sa.column("key", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.id, events.c.key)
            .where(events.c.id > last)
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changed = [
            {"row_id": row.id, "new_key": hashlib.sha256(row.key.encode()).hexdigest()}
            for row in rows
            if not HASHED.fullmatch(row.key)
        ]
        if changed:
            connection.execute(
                events.update()
                .where(events.c.id == sa.bindparam("row_id"))
                .values(key=sa.bindparam("new_key")),
                changed,
            )


def downgrade() -> None:
    # A hash cannot be turned back into its key; the rows are kept as they are.
    pass
