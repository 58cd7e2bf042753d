"""SQL for topics, producers, consumers and messages, portable across both backends.

This repository serves SQLite; ``PostgresRepository`` (``postgres.py``) extends it with
PostgreSQL's hot paths, and ``create_repository`` picks one per backend.

Every method is one short transaction. Offsets are reserved with ``UPDATE … RETURNING`` on
the topic row, which holds that row's lock until commit, so server processes sharing one
database never hand out an offset twice or leave a gap. A write locks the topic row before
any producer row, the order in which deleting a topic (and its producers, by cascade) does.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain import (
    AppendOutcome,
    AppendRequest,
    ClientBinding,
    ClientsPage,
    ConsumerLag,
    ConsumerPosition,
    EncodedMessages,
    LagReport,
    RetainedTopic,
    Retention,
    StoredMessage,
    TopicDetails,
    TopicRecord,
    judge_sequence,
    next_sequence,
)
from app.models import Consumer, Message, Producer, Topic
from app.storage.capped import capped_read
from app.storage.failures import unavailable_as_domain_error
from app.storage.message_json import encode_messages

topics = Topic.__table__
producers = Producer.__table__
consumers = Consumer.__table__
messages = Message.__table__


class QueueRepository:
    """The portable repository: SQLAlchemy Core only, so it runs on any backend."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # One statement needs no BEGIN/COMMIT round trips around it.
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """A single-statement connection; a lost database becomes ``StorageUnavailable``."""
        with unavailable_as_domain_error():
            async with self._single.connect() as conn:
                yield conn

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncConnection]:
        with unavailable_as_domain_error():
            async with self._engine.begin() as conn:
                yield conn

    async def ping(self) -> None:
        async with self._connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def create_topic(
        self, name: str, retention: Retention | None = None
    ) -> TopicRecord | None:
        """Returns None when the name is taken (the unique index decides, not a prior read)."""
        limits = retention or Retention()
        try:
            async with self._connect() as conn:
                topic_id = await conn.scalar(
                    insert(topics)
                    .values(
                        name=name,
                        next_offset=0,
                        retention_messages=limits.messages,
                        retention_ms=limits.ms,
                    )
                    .returning(topics.c.id)
                )
        except IntegrityError:
            return None
        assert topic_id is not None
        return TopicRecord(topic_id, name)

    async def get_topic(self, name: str) -> TopicRecord | None:
        async with self._connect() as conn:
            topic_id = await conn.scalar(select(topics.c.id).where(topics.c.name == name))
        return None if topic_id is None else TopicRecord(topic_id, name)

    async def list_topics(self) -> list[str]:
        async with self._connect() as conn:
            result = await conn.scalars(select(topics.c.name).order_by(topics.c.id))
            return list(result)

    async def add_producer(
        self, producer_id: int, topic_id: int, owner: str | None, now: datetime
    ) -> bool | None:
        """False when the id is already taken, so the caller can draw another."""
        return await self._insert_client(producers, producer_id, topic_id, owner, now)

    async def add_consumer(
        self, consumer_id: int, topic_id: int, owner: str | None, now: datetime
    ) -> bool | None:
        return await self._insert_client(consumers, consumer_id, topic_id, owner, now)

    async def _insert_client(
        self, table: Table, client_id: int, topic_id: int, owner: str | None, now: datetime
    ) -> bool | None:
        """None when the topic is gone (deleted by another process since it was looked up)."""
        try:
            async with self._connect() as conn:
                await conn.execute(
                    insert(table).values(
                        id=client_id, topic_id=topic_id, owner=owner, last_used_at=now
                    )
                )
        except IntegrityError:
            return False if await self._topic_exists(topic_id) else None
        return True

    async def touch_producer(self, producer_id: int, now: datetime) -> bool:
        """Mark the producer used (see app/service/idle_clients.py); False if it is gone."""
        return await self._touch(producers, producer_id, now)

    async def touch_consumer(self, consumer_id: int, now: datetime) -> bool:
        return await self._touch(consumers, consumer_id, now)

    async def _touch(self, table: Table, client_id: int, now: datetime) -> bool:
        """One row's lock alone, held for one statement: it can wait behind a produce or a
        read of that id, never close a cycle with one."""
        async with self._connect() as conn:
            result = await conn.execute(
                update(table).where(table.c.id == client_id).values(last_used_at=now)
            )
        return result.rowcount > 0

    async def remove_idle_producers(self, cutoff: datetime, batch_size: int) -> int:
        """Delete up to ``batch_size`` producers last used before ``cutoff``; how many."""
        async with self._begin() as conn:
            return len(await self._remove_idle(conn, producers, cutoff, batch_size))

    async def remove_idle_consumers(self, cutoff: datetime, batch_size: int) -> int:
        """As for producers; their topics' long polls elsewhere are woken to find them gone."""
        async with self._begin() as conn:
            topic_ids = await self._remove_idle(conn, consumers, cutoff, batch_size)
            for topic_id in sorted(set(topic_ids)):
                await self._deleted(conn, topic_id)
        return len(topic_ids)

    async def _remove_idle(
        self, conn: AsyncConnection, table: Table, cutoff: datetime, batch_size: int
    ) -> list[int]:
        """The removed rows' topic ids. Rows are locked in id order, skipping any a produce,
        read or stamp holds (an id in use is not idle): no wait, no lock cycle. Ids without a
        stamp (written by a server older than migration 0008) are kept."""
        doomed = (
            select(table.c.id)
            .where(table.c.last_used_at < cutoff)
            .order_by(table.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        removed = await conn.scalars(
            delete(table)
            .where(table.c.id.in_(doomed), table.c.last_used_at < cutoff)
            .returning(table.c.topic_id)
        )
        return list(removed)

    async def producer_topic(self, producer_id: int) -> ClientBinding | None:
        return await self._binding(producers, producer_id)

    async def consumer_topic(self, consumer_id: int) -> ClientBinding | None:
        return await self._binding(consumers, consumer_id)

    async def _binding(self, table: Table, client_id: int) -> ClientBinding | None:
        async with self._connect() as conn:
            row = (
                await conn.execute(
                    select(table.c.topic_id, table.c.owner).where(table.c.id == client_id)
                )
            ).first()
        return None if row is None else ClientBinding(row.topic_id, row.owner)

    async def append(
        self, topic_id: int, requests: Sequence[AppendRequest]
    ) -> list[AppendOutcome] | None:
        """Write many produce requests in one transaction, in order; one outcome each.

        Unsequenced requests are always stored. A sequenced one is judged against its
        producer's last sequence (``judge_sequence``) under the producer row's lock, and
        the producer row moves on with it, so a retry is recognised even when it reaches
        another server process. At most one sequenced request per producer: the next one
        must see this one's outcome. None means the topic row is gone.
        """
        async with self._begin() as conn:
            start = await conn.scalar(
                select(topics.c.next_offset)
                .where(topics.c.id == topic_id)
                .with_for_update(key_share=True)
            )
            if start is None:
                return None
            sequenced = sorted({r.producer_id for r in requests if r.sequence is not None})
            rows = await conn.execute(
                select(
                    producers.c.id,
                    producers.c.last_sequence,
                    producers.c.last_first,
                    producers.c.last_count,
                )
                .where(producers.c.id.in_(sequenced))
                .order_by(producers.c.id)
                .with_for_update(key_share=True)
            )
            last = {pid: (seq, first, count) for pid, seq, first, count in rows}
            outcomes = _judge(start, requests, last)
            stored = [
                (r, o) for r, o in zip(requests, outcomes, strict=True) if o.outcome == "stored"
            ]
            if stored:
                await _write_stored(conn, topic_id, stored)
        return outcomes

    async def read_next(
        self, topic_id: int, consumer_id: int, max_messages: int, max_bytes: int
    ) -> list[StoredMessage] | None:
        """Advance the consumer past up to ``max_messages`` and return them, atomically;
        the batch stops before its bodies exceed ``max_bytes`` (but holds at least one).
        None when the consumer is gone (deleted, perhaps by another server process).

        Two concurrent reads for one consumer never get the same message: PostgreSQL
        locks the consumer row, SQLite's one writer connection serialises them. A consumer
        with nothing new is not written to at all.
        """
        async with self._begin() as conn:
            bounds = (
                await conn.execute(
                    select(_read_start(topic_id), _topic_end(topic_id))
                    .where(consumers.c.id == consumer_id)
                    .with_for_update(of=consumers)
                )
            ).first()
            if bounds is None:
                return None
            start, end = bounds
            unread = messages.c.offset.between(start, end - 1)
            capped = capped_read(topic_id, unread, limit=max_messages, max_bytes=max_bytes)
            rows = (await conn.execute(capped)).all()
            if rows:
                await conn.execute(
                    update(consumers)
                    .where(consumers.c.id == consumer_id)
                    .values(offset=rows[-1].offset + 1)
                )
        # SQLite keeps no zone; every timestamp was written in UTC.
        return [StoredMessage(o, b, t.replace(tzinfo=UTC)) for o, b, t in rows]

    async def read_next_encoded(
        self, topic_id: int, consumer_id: int, max_messages: int, max_bytes: int
    ) -> EncodedMessages | None:
        """``read_next``, answered as the JSON array a batch consume sends."""
        found = await self.read_next(topic_id, consumer_id, max_messages, max_bytes)
        return None if found is None else encode_messages(found)

    async def remaining(self, consumer_id: int) -> int | None:
        """Unread count from two offsets: constant time however long the log is."""
        async with self._connect() as conn:
            return await conn.scalar(
                select(_lag())
                .select_from(consumers.join(topics, topics.c.id == consumers.c.topic_id))
                .where(consumers.c.id == consumer_id)
            )

    async def _topic_exists(self, topic_id: int) -> bool:
        async with self._connect() as conn:
            found = await conn.scalar(select(topics.c.id).where(topics.c.id == topic_id))
        return found is not None

    async def topic_details(self, name: str, page: ClientsPage) -> TopicDetails | None:
        """A topic's log bounds, how many producers and consumers it has, and one page of
        each (in id order, walking the primary key from the page's cursor)."""
        async with self._connect() as conn:
            row = (
                await conn.execute(
                    select(
                        topics.c.id,
                        topics.c.first_offset,
                        topics.c.next_offset,
                        topics.c.retention_messages,
                        topics.c.retention_ms,
                        topics.c.created_at,
                        _client_count(producers),
                        _client_count(consumers),
                    ).where(topics.c.name == name)
                )
            ).one_or_none()
            if row is None:
                return None
            producer_ids = list(
                await conn.scalars(
                    select(producers.c.id)
                    .where(producers.c.topic_id == row.id, producers.c.id > page.producers_after)
                    .order_by(producers.c.id)
                    .limit(page.limit + 1)
                )
            )
            positions = (
                await conn.execute(
                    select(consumers.c.id, _lag())
                    .select_from(consumers.join(topics, topics.c.id == consumers.c.topic_id))
                    .where(consumers.c.topic_id == row.id, consumers.c.id > page.consumers_after)
                    .order_by(consumers.c.id)
                    .limit(page.limit + 1)
                )
            ).all()
            return TopicDetails(
                name=name,
                first_offset=row.first_offset,
                next_offset=row.next_offset,
                retention=Retention(row.retention_messages, row.retention_ms),
                created_at=row.created_at,
                producers=producer_ids[: page.limit],
                consumers=[
                    ConsumerPosition(cid, row.next_offset - lag, lag)
                    for cid, lag in positions[: page.limit]
                ],
                producer_count=row[6],
                consumer_count=row[7],
                more_producers=len(producer_ids) > page.limit,
                more_consumers=len(positions) > page.limit,
            )

    async def delete_producer(self, producer_id: int) -> bool:
        """Only the producer row: its messages stay in the log. Locks that row alone, so
        it waits for (never deadlocks with) a produce holding its topic's row."""
        async with self._connect() as conn:
            result = await conn.execute(delete(producers).where(producers.c.id == producer_id))
        return result.rowcount > 0

    async def delete_consumer(self, consumer_id: int) -> int | None:
        """The deleted consumer's topic id, or None if there was no such consumer. Locks
        the consumer row alone, as a read does: a read in flight finishes first, a later
        one finds no consumer. Other processes' long polls of it are woken to find that."""
        async with self._begin() as conn:
            topic_id = await conn.scalar(
                delete(consumers)
                .where(consumers.c.id == consumer_id)
                .returning(consumers.c.topic_id)
            )
            if topic_id is not None:
                await self._deleted(conn, topic_id)
            return topic_id

    async def delete_topic(self, name: str) -> int | None:
        """Delete the topic and its messages; producers and consumers go by ON DELETE CASCADE.

        Returns the deleted topic's id, or None if there was no such topic.
        """
        async with self._begin() as conn:
            topic_id = await conn.scalar(
                delete(topics).where(topics.c.name == name).returning(topics.c.id)
            )
            if topic_id is not None:
                await conn.execute(delete(messages).where(messages.c.topic_id == topic_id))
                await self._deleted(conn, topic_id)
            return topic_id

    async def _deleted(self, conn: AsyncConnection, topic_id: int) -> None:
        """Tell other server processes, in the deleting transaction; one process on SQLite
        has no one to tell."""

    async def consumer_lag(self, limit: int) -> LagReport:
        """The ``limit`` largest lags in one query over consumers and topics (no message scan)."""
        lag = _lag().label("lag")
        async with self._connect() as conn:
            rows = (
                await conn.execute(
                    select(topics.c.name, consumers.c.id, lag, func.count().over())
                    .select_from(consumers.join(topics, topics.c.id == consumers.c.topic_id))
                    .order_by(lag.desc(), consumers.c.id)
                    .limit(limit)
                )
            ).all()
        total = rows[0][3] if rows else 0
        return LagReport([ConsumerLag(name, cid, lag) for name, cid, lag, _ in rows], total)

    async def retained_topics(self) -> list[RetainedTopic]:
        """Topics with a retention limit: the only ones the retention task has to visit."""
        async with self._connect() as conn:
            rows = await conn.execute(
                select(
                    topics.c.id, topics.c.name, topics.c.retention_messages, topics.c.retention_ms
                )
                .where(
                    (topics.c.retention_messages.is_not(None))
                    | (topics.c.retention_ms.is_not(None))
                )
                .order_by(topics.c.id)
            )
            return [RetainedTopic(tid, name, Retention(n, ms)) for tid, name, n, ms in rows]

    async def advance_first_offset(
        self, topic_id: int, retention: Retention, now: datetime
    ) -> int | None:
        """Move the log's head past what ``retention`` no longer keeps; returns the new head.

        Only the head moves here, in a short transaction (the topic row is the lock every
        produce takes); the messages below it are deleted afterwards by
        ``delete_below_first_offset``. Readers never look below the head, so messages
        waiting for deletion are already invisible. The head only moves forward.
        """
        async with self._begin() as conn:
            bounds = (
                await conn.execute(
                    select(topics.c.first_offset, topics.c.next_offset).where(
                        topics.c.id == topic_id
                    )
                )
            ).one_or_none()
            if bounds is None:
                return None
            first, end = bounds
            target: int = first
            if retention.messages is not None:
                target = max(target, end - retention.messages)
            if retention.ms is not None:
                cutoff = now - timedelta(milliseconds=retention.ms)
                kept = await conn.scalar(
                    select(messages.c.offset)
                    .where(
                        messages.c.topic_id == topic_id,
                        messages.c.offset >= first,
                        messages.c.offset < end,
                        messages.c.produced_at >= cutoff,
                    )
                    .order_by(messages.c.offset)
                    .limit(1)
                )
                target = max(target, end if kept is None else kept)
            if target > first:
                await conn.execute(
                    update(topics)
                    .where(topics.c.id == topic_id, topics.c.first_offset < target)
                    .values(first_offset=target)
                )
            return target

    async def delete_below_first_offset(self, topic_id: int, batch_size: int) -> int:
        """Delete up to ``batch_size`` messages the head has passed; returns how many."""
        first = select(topics.c.first_offset).where(topics.c.id == topic_id).scalar_subquery()
        doomed = (
            select(messages.c.offset)
            .where(messages.c.topic_id == topic_id, messages.c.offset < first)
            .order_by(messages.c.offset)
            .limit(batch_size)
        )
        async with self._begin() as conn:
            result = await conn.execute(
                delete(messages).where(
                    messages.c.topic_id == topic_id, messages.c.offset.in_(doomed)
                )
            )
        return result.rowcount


def _client_count(table: Table) -> ScalarSelect[int]:
    """How many producers (or consumers) the selected topic has."""
    return (
        select(func.count())
        .select_from(table)
        .where(table.c.topic_id == topics.c.id)
        .scalar_subquery()
    )


def _topic_end(topic_id: int) -> ScalarSelect[int]:
    return select(topics.c.next_offset).where(topics.c.id == topic_id).scalar_subquery()


def _read_start(topic_id: int) -> ColumnElement[int]:
    """Where a consumer reads next: retention may have cut the log past its offset."""
    first = select(topics.c.first_offset).where(topics.c.id == topic_id).scalar_subquery()
    return case((consumers.c.offset < first, first), else_=consumers.c.offset)


def _lag() -> ColumnElement[int]:
    """Unread messages of a consumer, in a query that joins consumers to their topic."""
    start = case(
        (consumers.c.offset < topics.c.first_offset, topics.c.first_offset),
        else_=consumers.c.offset,
    )
    return topics.c.next_offset - start


def _judge(
    start: int,
    requests: Sequence[AppendRequest],
    last: dict[int, tuple[int | None, int | None, int | None]],
) -> list[AppendOutcome]:
    """Each request's outcome, in order, with stored requests at consecutive offsets from
    ``start``; ``last`` holds the sequenced producers' rows (last sequence, first, count)."""
    outcomes: list[AppendOutcome] = []
    for request in requests:
        count = len(request.bodies)
        if request.sequence is None:
            outcomes.append(AppendOutcome("stored", start, count))
            start += count
            continue
        if request.producer_id not in last:
            outcomes.append(AppendOutcome("no_producer"))
            continue
        last_sequence, last_first, last_count = last[request.producer_id]
        verdict = judge_sequence(last_sequence, request.sequence)
        if verdict == "stored":
            outcomes.append(AppendOutcome("stored", start, count))
            start += count
        elif verdict == "duplicate":
            outcomes.append(AppendOutcome("duplicate", last_first or 0, last_count or 0))
        else:
            outcomes.append(AppendOutcome("out_of_order", expected=next_sequence(last_sequence)))
    return outcomes


async def _write_stored(
    conn: AsyncConnection, topic_id: int, stored: list[tuple[AppendRequest, AppendOutcome]]
) -> None:
    """Reserve the stored requests' offsets, insert their messages and move their
    producers' last sequence on, inside the caller's transaction."""
    total = sum(outcome.count for _, outcome in stored)
    await conn.execute(
        update(topics)
        .where(topics.c.id == topic_id)
        .values(next_offset=topics.c.next_offset + total)
    )
    now = datetime.now(UTC)
    await conn.execute(
        insert(messages),
        [
            {
                "topic_id": topic_id,
                "offset": outcome.first + i,
                "body": body,
                "produced_at": now,
                "producer_id": request.producer_id,
            }
            for request, outcome in stored
            for i, body in enumerate(request.bodies)
        ],
    )
    moved = [
        {"pid": request.producer_id, "seq": request.sequence, "first": o.first, "n": o.count}
        for request, o in stored
        if request.sequence is not None
    ]
    if moved:
        await conn.execute(
            update(producers)
            .where(producers.c.id == bindparam("pid"))
            .values(
                last_sequence=bindparam("seq"),
                last_first=bindparam("first"),
                last_count=bindparam("n"),
            ),
            moved,
        )
