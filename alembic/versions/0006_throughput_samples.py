"""Console rates: each topic's produced and consumed counters, sampled on a time grid.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "throughput_samples",
        sa.Column("topic_id", sa.BigInteger(), nullable=False),
        sa.Column("sampled_ms", sa.BigInteger(), nullable=False),
        sa.Column("produced", sa.BigInteger(), nullable=False),
        sa.Column("consumed", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_throughput_samples_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "sampled_ms", name=op.f("pk_throughput_samples")),
    )


def downgrade() -> None:
    op.drop_table("throughput_samples")
