"""SQL for the console's figures: every topic at a glance, and throughput samples."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain import Retention
from app.models import ThroughputSample
from app.storage.failures import unavailable_as_domain_error
from app.storage.groups import group_lag, groups
from app.storage.repository import _lag, consumers, topics


@dataclass(frozen=True, slots=True)
class TopicSummary:
    id: int
    name: str
    first_offset: int
    next_offset: int
    retention: Retention
    consumers: int
    groups: int
    max_lag: int | None


@dataclass(frozen=True, slots=True)
class Sample:
    topic_id: int
    sampled_ms: int
    produced: int
    consumed: int


class StatsRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    async def topic_summaries(self, name: str | None = None) -> list[TopicSummary]:
        """Every topic (or the one named) with its log bounds and the largest lag of its
        consumers and groups, in one query over topics, consumers, groups and their range
        rows (no message is read)."""
        lag = _lag()
        per_consumers = (
            select(
                consumers.c.topic_id,
                func.count().label("count"),
                func.max(lag).label("max_lag"),
            )
            .select_from(consumers.join(topics, topics.c.id == consumers.c.topic_id))
            .group_by(consumers.c.topic_id)
            .subquery()
        )
        per_groups = (
            select(
                groups.c.topic_id,
                func.count().label("count"),
                func.max(group_lag()).label("max_lag"),
            )
            .select_from(groups.join(topics, topics.c.id == groups.c.topic_id))
            .group_by(groups.c.topic_id)
            .subquery()
        )
        query = (
            select(
                topics.c.id,
                topics.c.name,
                topics.c.first_offset,
                topics.c.next_offset,
                topics.c.retention_messages,
                topics.c.retention_ms,
                func.coalesce(per_consumers.c.count, 0),
                func.coalesce(per_groups.c.count, 0),
                per_consumers.c.max_lag,
                per_groups.c.max_lag,
            )
            .select_from(
                topics.outerjoin(per_consumers, per_consumers.c.topic_id == topics.c.id).outerjoin(
                    per_groups, per_groups.c.topic_id == topics.c.id
                )
            )
            .order_by(topics.c.id)
        )
        if name is not None:
            query = query.where(topics.c.name == name)
        async with self._connect() as conn:
            rows = await conn.execute(query)
            return [
                TopicSummary(
                    tid, n, first, nxt, Retention(rm, rms), count, group_count, _larger(lag, glag)
                )
                for tid, n, first, nxt, rm, rms, count, group_count, lag, glag in rows
            ]

    async def record_samples(self, sampled_ms: int, keep_from_ms: int) -> None:
        """Sample every topic's counters at ``sampled_ms`` unless another process already
        did, and drop samples older than ``keep_from_ms``."""
        consumed = (
            select(func.coalesce(func.sum(consumers.c.offset), 0))
            .where(consumers.c.topic_id == topics.c.id)
            .scalar_subquery()
        )
        # SQLite needs a WHERE in INSERT … SELECT … ON CONFLICT, or it misreads the ON.
        taken = select(topics.c.id, literal(sampled_ms), topics.c.next_offset, consumed).where(
            topics.c.id.is_not(None)
        )
        statement = (
            self._insert(ThroughputSample)
            .from_select(["topic_id", "sampled_ms", "produced", "consumed"], taken)
            .on_conflict_do_nothing()
        )
        async with self._connect() as conn:
            await conn.execute(statement)
            await conn.execute(
                delete(ThroughputSample).where(ThroughputSample.sampled_ms < keep_from_ms)
            )

    async def samples(self, since_ms: int, topic_id: int | None = None) -> list[Sample]:
        sample = ThroughputSample
        query = select(sample.topic_id, sample.sampled_ms, sample.produced, sample.consumed).where(
            sample.sampled_ms >= since_ms
        )
        if topic_id is not None:
            query = query.where(sample.topic_id == topic_id)
        async with self._connect() as conn:
            rows = await conn.execute(query.order_by(sample.topic_id, sample.sampled_ms))
            return [Sample(*row) for row in rows]

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        with unavailable_as_domain_error():
            async with self._single.connect() as conn:
                yield conn


def _larger(a: int | None, b: int | None) -> int | None:
    """The larger lag; None only when the topic has neither consumers nor groups."""
    known = [lag for lag in (a, b) if lag is not None]
    return max(known) if known else None
