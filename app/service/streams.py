"""Live tails of topics (the SSE stream): read-only, woken like long polls, capped in number.

A stream holds its own position and reads the log by offset, so it moves no consumer or
group. It sleeps on the topic's wake-up event between batches (the same event a produce in
this process, or a NOTIFY from another one, sets), so an idle stream costs no queries but
one existence check per keep-alive.
"""

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.domain import StoredMessage
from app.errors import InvalidRequest, TooManyStreams, TopicNotFound
from app.service.wakeups import Wakeups
from app.storage.log_reads import LogReader


@dataclass(frozen=True, slots=True)
class StreamStart:
    """Where a stream begins: ``earliest``, ``latest`` or the first offset to send."""

    at: int | str

    @classmethod
    def parse(cls, value: str, last_event_id: str | None) -> "StreamStart":
        """``Last-Event-ID`` (the last offset the client got) wins over ``from``."""
        if last_event_id is not None:
            if not last_event_id.strip().isdigit():
                raise InvalidRequest.for_field("Last-Event-ID", "must be a message offset")
            return cls(int(last_event_id) + 1)
        if value in ("earliest", "latest"):
            return cls(value)
        if not value.isdigit():
            raise InvalidRequest.for_field("from", "must be 'earliest', 'latest' or an offset")
        return cls(int(value))


class Stream:
    """One open stream. Its slot is taken when it is opened and given back by ``close``,
    which the HTTP layer calls whether or not the events were ever iterated."""

    def __init__(self, streams: "LogStreams", topic_id: int, position: int) -> None:
        self._streams = streams
        self._topic_id = topic_id
        self.position = position
        self._closed = False

    async def batches(self, gone: asyncio.Event) -> AsyncIterator[list[StoredMessage]]:
        """Batches in offset order; an empty batch after each idle keep-alive period. Ends
        when ``gone`` is set (the client left), the server shuts down, the topic is deleted
        or the stream's lifetime (``LOGQUEUE_STREAM_MAX_S``) is up, and only ever between two
        queries: a query cut off by a cancellation can leave its pooled connection unusable
        (SQLite has only one)."""
        streams = self._streams
        ends_at = time.monotonic() + (streams.max_s or math.inf)
        while not (streams.stopping.is_set() or gone.is_set()):
            left = ends_at - time.monotonic()
            if left <= 0:
                return
            woken = streams.wakeups.current(self._topic_id)  # before the read: no lost wake-up
            batch = await streams.reader.read_from(
                self._topic_id, self.position, streams.batch_size, streams.max_bytes
            )
            if batch:
                self.position = batch[-1].offset + 1
                yield batch
            elif not await _first_of(woken, gone, timeout=min(streams.keepalive_s, left)):
                if not await streams.reader.topic_exists(self._topic_id):
                    return
                if time.monotonic() < ends_at:
                    yield []

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._streams.release()


class LogStreams:
    def __init__(
        self,
        reader: LogReader,
        wakeups: Wakeups,
        stopping: asyncio.Event,
        *,
        max_streams: int,
        batch_size: int,
        max_bytes: int,
        keepalive_s: float,
        max_s: float | None = None,
    ) -> None:
        self.reader = reader
        self.wakeups = wakeups
        self.stopping = stopping
        self.batch_size = batch_size
        self.max_bytes = max_bytes
        self.keepalive_s = keepalive_s
        self.max_s = max_s
        self._max_streams = max_streams
        self._open = 0

    @property
    def open_count(self) -> int:
        return self._open

    async def open(self, topic_name: str, start: StreamStart) -> Stream:
        """Take a slot (429 past the limit) and resolve the start against the topic's log."""
        if self._open >= self._max_streams:
            raise TooManyStreams(self._max_streams)
        self._open += 1  # before the query: two opens at once must not both pass the check
        try:
            bounds = await self.reader.bounds(topic_name)
            if bounds is None:
                raise TopicNotFound(topic_name)
        except BaseException:
            self._open -= 1
            raise
        if start.at == "earliest":
            position = bounds.first_offset
        elif start.at == "latest":
            position = bounds.next_offset
        else:
            position = int(start.at)
        return Stream(self, bounds.topic_id, position)

    def release(self) -> None:
        self._open -= 1


async def _first_of(*events: asyncio.Event, timeout: float) -> bool:
    """Wait until one of ``events`` is set; False if ``timeout`` seconds pass first."""
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return bool(done)
