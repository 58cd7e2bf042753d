"""Idle clients: when each producer and consumer was last used (LOGQUEUE_IDLE_CLIENT_TTL).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("producers", "consumers")


def upgrade() -> None:
    # Existing ids count as used at the upgrade, so turning on a TTL right after it gives
    # every one of them the whole TTL to show up.
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        op.execute(
            sa.table(table, sa.column("last_used_at")).update().values(last_used_at=sa.func.now())
        )
        op.create_index(op.f(f"ix_{table}_last_used_at"), table, ["last_used_at"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(op.f(f"ix_{table}_last_used_at"), table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("last_used_at")
