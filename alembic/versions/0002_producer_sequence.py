"""Idempotent produce: remember each producer's last sequence and where it was stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("last_sequence", sa.BigInteger()),
    ("last_first", sa.BigInteger()),
    ("last_count", sa.Integer()),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("producers", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("producers") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
