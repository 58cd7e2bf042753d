"""Consumer groups: the groups and the offset ranges they have delivered but not finished.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consumer_groups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("ack_wait_ms", sa.BigInteger(), nullable=False),
        sa.Column("max_deliver", sa.Integer(), nullable=False),
        sa.Column("dead_letter_topic", sa.String(length=255), nullable=True),
        *(
            sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)
            for name in ("acked", "redelivered", "dead_lettered", "skipped")
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_consumer_groups_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer_groups")),
        sa.UniqueConstraint("topic_id", "name", name=op.f("uq_consumer_groups_topic_id")),
    )
    op.create_table(
        "group_ranges",
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stop", sa.BigInteger(), nullable=False),
        sa.Column("lease", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("delivery", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["consumer_groups.id"],
            name=op.f("fk_group_ranges_group_id_consumer_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "start", name=op.f("pk_group_ranges")),
    )
    op.create_index(op.f("ix_group_ranges_lease"), "group_ranges", ["lease"])


def downgrade() -> None:
    op.drop_index(op.f("ix_group_ranges_lease"), table_name="group_ranges")
    op.drop_table("group_ranges")
    op.drop_table("consumer_groups")
