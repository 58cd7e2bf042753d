"""Read-only views of a topic's log: the live stream's batches and the console's browser.

Nothing here moves a consumer or group: these reads only look at ``messages`` by offset,
so a stream or a page of the browser never changes what anybody consumes next.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain import StoredMessage
from app.storage.capped import capped_read
from app.storage.failures import unavailable_as_domain_error
from app.storage.repository import messages, topics


@dataclass(frozen=True, slots=True)
class LogBounds:
    topic_id: int
    first_offset: int
    next_offset: int


class LogReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def read_from(
        self, topic_id: int, start: int, limit: int, max_bytes: int
    ) -> list[StoredMessage]:
        """Messages at ``start`` and after, oldest first: at most ``limit`` of them and no
        more than ``max_bytes`` of bodies, but always the first one. The bytes are counted
        in SQL, so a batch of huge messages is never fetched whole."""
        return await self._read(topic_id, messages.c.offset >= start, limit, max_bytes, False)

    async def read_before(
        self, topic_id: int, before: int, limit: int, max_bytes: int
    ) -> list[StoredMessage]:
        """Messages below ``before``, newest first, capped as ``read_from``."""
        return await self._read(topic_id, messages.c.offset < before, limit, max_bytes, True)

    async def first_offset_at(self, topic_id: int, when: datetime, low: int, high: int) -> int:
        """The first offset in ``[low, high)`` produced at or after ``when`` (``high`` if
        none), by bisection over primary-key lookups: timestamps grow with offsets, and no
        index on ``produced_at`` is needed for a jump the console makes now and then."""
        async with self._connect() as conn:
            while low < high:
                middle = (low + high) // 2
                at = await conn.scalar(
                    select(messages.c.produced_at)
                    .where(messages.c.topic_id == topic_id, messages.c.offset >= middle)
                    .order_by(messages.c.offset)  # the nearest message retention kept
                    .limit(1)
                )
                if at is None:
                    return high
                if _utc(at) >= when:
                    high = middle
                else:
                    low = middle + 1
        return low

    async def bounds(self, topic_name: str) -> LogBounds | None:
        async with self._connect() as conn:
            row = (
                await conn.execute(
                    select(topics.c.id, topics.c.first_offset, topics.c.next_offset).where(
                        topics.c.name == topic_name
                    )
                )
            ).one_or_none()
        return None if row is None else LogBounds(*row)

    async def topic_exists(self, topic_id: int) -> bool:
        async with self._connect() as conn:
            found = await conn.scalar(select(topics.c.id).where(topics.c.id == topic_id))
        return found is not None

    async def _read(
        self,
        topic_id: int,
        bound: ColumnElement[bool],
        limit: int,
        max_bytes: int,
        newest_first: bool,
    ) -> list[StoredMessage]:
        query = capped_read(
            topic_id, bound, limit=limit, max_bytes=max_bytes, newest_first=newest_first
        )
        async with self._connect() as conn:
            rows = await conn.execute(query)
            return [StoredMessage(o, b, _utc(t)) for o, b, t in rows]

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        with unavailable_as_domain_error():
            async with self._single.connect() as conn:
                yield conn


def _utc(at: datetime) -> datetime:
    """SQLite keeps no zone; every timestamp was written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
