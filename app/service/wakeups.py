"""Long-poll wake-ups: consumers wait on their topic's event instead of polling the database.

A waiter takes the topic's current event *before* it reads, so a produce that commits
between the read and the wait still wakes it. Each notify fires the event once and
replaces it, so every waiter re-reads at most once per commit.

Events are held weakly: a topic's entry lives exactly as long as some waiter (or a reader
about to wait) holds its event, so the table shrinks back as waiters leave instead of
keeping an entry for every topic ever polled that saw no produce since.
"""

import asyncio
import contextlib
import weakref
from collections.abc import Iterator

from app.errors import TooManyWaiters


class Wakeups:
    def __init__(self, max_waiters: int) -> None:
        self._events: weakref.WeakValueDictionary[int, asyncio.Event] = (
            weakref.WeakValueDictionary()
        )
        self._max_waiters = max_waiters
        self._waiting = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def entries(self) -> int:
        """Topics with a live wake-up event: those some waiter holds right now."""
        return len(self._events)

    def current(self, topic_id: int) -> asyncio.Event:
        event = self._events.get(topic_id)
        if event is None:
            event = self._events[topic_id] = asyncio.Event()
            if self._closed:
                event.set()
        return event

    def notify(self, topic_id: int) -> None:
        event = self._events.pop(topic_id, None)
        if event is not None:
            event.set()

    def notify_all(self) -> None:
        """After a missed notification channel (reconnect) or at shutdown."""
        events = list(self._events.values())
        self._events.clear()
        for event in events:
            event.set()

    def close(self) -> None:
        """Shutdown: wake every waiter now and let no new wait block."""
        self._closed = True
        self.notify_all()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """A parked long poll's place (held while it waits for a wake-up or for its
        consumer's turn); refused when ``max_waiters`` are parked."""
        if self._waiting >= self._max_waiters:
            raise TooManyWaiters(self._max_waiters)
        self._waiting += 1
        try:
            yield
        finally:
            self._waiting -= 1

    async def wait(
        self, event: asyncio.Event, timeout: float, gone: asyncio.Event | None = None
    ) -> None:
        """Wait for ``event`` or ``timeout`` seconds; refuse when too many already wait."""
        with self.slot():
            await self.wait_in_slot(event, timeout, gone)

    async def wait_in_slot(
        self, event: asyncio.Event, timeout: float, gone: asyncio.Event | None = None
    ) -> None:
        """Wait for ``event``, ``timeout`` seconds, or ``gone`` (the client left)."""
        if gone is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
            return
        woken = asyncio.ensure_future(event.wait())
        leaving = asyncio.ensure_future(gone.wait())
        try:
            await asyncio.wait({woken, leaving}, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            woken.cancel()
            leaving.cancel()
