"""Initial schema: topics, producers, consumers, messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _topic_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["topic_id"], ["topics.id"], name=op.f(f"fk_{table}_topic_id_topics"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), server_default="0", nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("name", name=op.f("uq_topics_name")),
    )
    for table in ("producers", "consumers"):
        extra = (
            [sa.Column("offset", sa.BigInteger(), server_default="0", nullable=False)]
            if table == "consumers"
            else []
        )
        op.create_table(
            table,
            sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("topic_id", sa.BigInteger(), nullable=False),
            *extra,
            _created_at(),
            _topic_fk(table),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_topic_id"), table, ["topic_id"])
    op.create_table(
        "messages",
        sa.Column("topic_id", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("producer_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic_id", "offset", name=op.f("pk_messages")),
    )


def downgrade() -> None:
    op.drop_table("messages")
    for table in ("consumers", "producers"):
        op.drop_index(op.f(f"ix_{table}_topic_id"), table_name=table)
        op.drop_table(table)
    op.drop_table("topics")
