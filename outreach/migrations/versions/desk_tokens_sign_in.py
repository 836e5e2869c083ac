"""desk: API tokens expire and can be revoked; failed sign-ins are counted

Revision ID: desk_tokens_sign_in
Revises: 0001
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import outreach.db

revision: str = "desk_tokens_sign_in"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens issued before expiry existed keep working this long after their creation.
EXISTING_TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("expires_at", outreach.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("revoked_at", outreach.db.UTCDateTime(timezone=True), nullable=True)
        )
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Integer()),
        sa.column("created_at", outreach.db.UTCDateTime(timezone=True)),
        sa.column("expires_at", outreach.db.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)):
        connection.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=created_at + timedelta(days=EXISTING_TOKEN_DAYS))
        )
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", outreach.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("scope IN ('user', 'address')", name="sign_in_failure_scope"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sign_in_failures_lookup", "sign_in_failures", ["scope", "key", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_lookup", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
