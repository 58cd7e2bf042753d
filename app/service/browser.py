"""The console's message browser: pages of a topic's log, newest first, read-only."""

from dataclasses import dataclass
from datetime import datetime

from app.domain import StoredMessage
from app.errors import TopicNotFound
from app.storage.log_reads import LogReader


@dataclass(frozen=True, slots=True)
class Page:
    topic: str
    first_offset: int
    next_offset: int
    messages: list[StoredMessage]
    older: int | None


class LogBrowser:
    def __init__(self, reader: LogReader, *, max_bytes: int) -> None:
        self._reader = reader
        self._max_bytes = max_bytes

    async def page(
        self, topic: str, limit: int, before: int | None = None, at: datetime | None = None
    ) -> Page:
        """Up to ``limit`` messages below ``before`` (default: the newest) and, with ``at``,
        ending with the first message produced at or after that time (both bounds apply)."""
        bounds = await self._reader.bounds(topic)
        if bounds is None:
            raise TopicNotFound(topic)
        if at is not None:
            found = await self._reader.first_offset_at(
                bounds.topic_id, at, bounds.first_offset, bounds.next_offset
            )
            before = found + 1 if before is None else min(before, found + 1)
        end = bounds.next_offset if before is None else min(before, bounds.next_offset)
        found_messages = await self._reader.read_before(
            bounds.topic_id, end, limit, self._max_bytes
        )
        oldest = found_messages[-1].offset if found_messages else end
        return Page(
            topic,
            bounds.first_offset,
            bounds.next_offset,
            found_messages,
            oldest if oldest > bounds.first_offset else None,
        )
