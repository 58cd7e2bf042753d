"""Group commit: concurrent appends to one topic share one transaction.

Each request queues its messages and then takes the topic's lock. Whoever gets the lock
writes everything queued so far (in arrival order) in one transaction and answers every
request in it. A lone request writes at once: there is no timer to wait for.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from app.storage.repository import NewMessage

AppendFn = Callable[[Sequence[NewMessage]], Awaitable[int]]


@dataclass(slots=True)
class _Request:
    messages: Sequence[NewMessage]
    done: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommitter:
    """One per topic; ``append`` resolves to the first offset once the write is committed."""

    def __init__(self, write: AppendFn) -> None:
        self._write = write
        self._lock = asyncio.Lock()
        self._queued: list[_Request] = []
        self._flushing: asyncio.Future[None] | None = None

    async def append(self, messages: Sequence[NewMessage]) -> int:
        request = _Request(messages)
        self._queued.append(request)
        async with self._lock:
            if not request.done.done():
                batch, self._queued = self._queued, []
                # Shielded so a cancelled leader still finishes (and answers) its followers.
                self._flushing = asyncio.ensure_future(self._flush(batch))
                await asyncio.shield(self._flushing)
        return await request.done

    async def drain(self) -> None:
        """Wait for a write still running (its leader may have been cancelled) to finish.

        Shutdown calls this before closing the pool, so no commit is cut off mid-way.
        """
        if self._flushing is not None:
            await asyncio.wait([self._flushing])

    async def _flush(self, batch: list[_Request]) -> None:
        combined = [m for request in batch for m in request.messages]
        try:
            first = await self._write(combined)
        except Exception as exc:
            for request in batch:
                request.done.set_exception(exc)
            return
        for request in batch:
            request.done.set_result(first)
            first += len(request.messages)
