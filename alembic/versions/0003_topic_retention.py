"""Topic retention: per-topic limits and the retained log's first offset.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("topics") as batch:
        batch.add_column(
            sa.Column("first_offset", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("retention_messages", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("retention_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("topics") as batch:
        batch.drop_column("retention_ms")
        batch.drop_column("retention_messages")
        batch.drop_column("first_offset")
