"""ORM tables. The schema itself changes only through Alembic migrations in ``alembic/``."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names keep Alembic autogenerate and both backends in agreement.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Each model maps exactly one table (no joins, no selects), which the SQL in
    # app/storage/ builds on; SQLAlchemy's own annotation allows any FromClause.
    __table__: ClassVar[Table]


class Topic(Base):
    """An append-only log; ``next_offset`` is the offset the next message will get.

    Retention cuts the log's head: messages below ``first_offset`` are gone (or about to
    be deleted), so readers start no earlier than it.
    """

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    next_offset: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    first_offset: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    retention_messages: Mapped[int | None] = mapped_column(BigInteger)
    retention_ms: Mapped[int | None] = mapped_column(BigInteger)


class Producer(Base):
    """A producer id is a random 53-bit credential bound to one topic."""

    __tablename__ = "producers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Idempotent produce: the last sequence stored and where its messages went, so a
    # retried request is answered with the original offsets instead of stored twice.
    last_sequence: Mapped[int | None] = mapped_column(BigInteger)
    last_first: Mapped[int | None] = mapped_column(BigInteger)
    last_count: Mapped[int | None] = mapped_column(Integer)
    # SHA-256 fingerprint of the API key that registered it; NULL with access control off.
    owner: Mapped[str | None] = mapped_column(String(64))
    # Stamped now and then, not per request (app/service/idle_clients.py); NULL only for
    # rows written by a server older than migration 0008.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class Consumer(Base):
    """A consumer id is a random 53-bit credential with its own read position in one topic."""

    __tablename__ = "consumers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    topic_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("topics.id", ondelete="CASCADE"), index=True
    )
    offset: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # SHA-256 fingerprint of the API key that registered it; NULL with access control off.
    owner: Mapped[str | None] = mapped_column(String(64))
    # Stamped now and then, not per request (app/service/idle_clients.py); NULL only for
    # rows written by a server older than migration 0008.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class Message(Base):
    """One log entry; (topic, offset) is both its identity and its order.

    No foreign key to topics: its per-row check tripled the cost of a batch insert. Rows are
    only ever inserted by the statement that reserves their offsets on the topic row, and
    deleting a topic deletes its messages explicitly.
    """

    __tablename__ = "messages"

    topic_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    produced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    producer_id: Mapped[int] = mapped_column(BigInteger)


class ThroughputSample(Base):
    """A topic's counters at one moment: the console's rates are differences of these.

    Taken by every server process on the same time grid (``sampled_ms`` is a multiple of the
    sampling interval); the first process to write a slot wins, so the rates are counted
    from the database and right however many processes there are.
    """

    __tablename__ = "throughput_samples"

    topic_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    sampled_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Messages ever produced to the topic (its next offset) and the sum of its consumers'
    # offsets (messages handed to consumers) at that moment.
    produced: Mapped[int] = mapped_column(BigInteger)
    consumed: Mapped[int] = mapped_column(BigInteger)


class ConsumerGroup(Base):
    """Members share a topic's messages; a message is finished once acked or dead-lettered.

    ``next_offset`` is the first offset never delivered to the group: everything below it
    that has no ``group_ranges`` row is finished. The counters are kept here rather than
    derived, because finished messages leave no row behind.
    """

    __tablename__ = "consumer_groups"
    __table_args__ = (UniqueConstraint("topic_id", "name"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    topic_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("topics.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    next_offset: Mapped[int] = mapped_column(BigInteger)
    ack_wait_ms: Mapped[int] = mapped_column(BigInteger)
    max_deliver: Mapped[int] = mapped_column(Integer)
    dead_letter_topic: Mapped[str | None] = mapped_column(String(255))
    acked: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    redelivered: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    dead_lettered: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GroupRange(Base):
    """Delivered but unfinished messages ``[start, stop)`` of a group, all in one state.

    One row covers a whole lease's range, so a fetch writes one row however many messages
    it hands out; a row is split only when part of it is acked, nacked or expires. With a
    ``lease`` the messages are out until ``expires_at``; without one (nacked) they wait for
    redelivery until ``expires_at``. Times are epoch milliseconds of the database's clock,
    so every server process judges expiry alike.
    """

    __tablename__ = "group_ranges"

    group_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("consumer_groups.id", ondelete="CASCADE"), primary_key=True
    )
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stop: Mapped[int] = mapped_column(BigInteger)
    lease: Mapped[int | None] = mapped_column(BigInteger, index=True)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    delivery: Mapped[int] = mapped_column(Integer)
