"""Group commit: concurrent appends to one topic share one transaction.

Each request queues itself and then takes the topic's lock. Whoever gets the lock writes
everything queued so far, in arrival order, and answers every request in it. Plain appends
that are queued next to each other go out as one transaction; a job that must see the
committed state alone (an idempotent, sequenced produce) runs by itself, in its turn.
A lone request writes at once: there is no timer to wait for.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from app.storage.repository import NewMessage

WriteBatch = Callable[[Sequence[NewMessage]], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Appended:
    """Where a request's messages are; ``duplicate`` when a retry found them already stored."""

    first: int
    count: int
    duplicate: bool = False


Job = Callable[[], Awaitable[Appended]]


@dataclass(slots=True)
class _Request:
    messages: Sequence[NewMessage] = ()
    job: Job | None = None
    done: asyncio.Future[Appended] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommitter:
    """One per topic; every call resolves once its write is committed (or has failed)."""

    def __init__(self, write_batch: WriteBatch) -> None:
        self._write_batch = write_batch
        self._lock = asyncio.Lock()
        self._queued: list[_Request] = []

    async def append(self, messages: Sequence[NewMessage]) -> Appended:
        return await self._enqueue(_Request(messages=messages))

    async def run_alone(self, job: Job) -> Appended:
        return await self._enqueue(_Request(job=job))

    async def _enqueue(self, request: _Request) -> Appended:
        self._queued.append(request)
        async with self._lock:
            if not request.done.done():
                batch, self._queued = self._queued, []
                # Shielded so a cancelled leader still finishes (and answers) its followers.
                await asyncio.shield(self._flush(batch))
        return await request.done

    async def _flush(self, batch: list[_Request]) -> None:
        run: list[_Request] = []
        for request in batch:
            if request.job is None:
                run.append(request)
                continue
            await self._write_run(run)
            run = []
            try:
                request.done.set_result(await request.job())
            except Exception as exc:
                request.done.set_exception(exc)
        await self._write_run(run)

    async def _write_run(self, run: list[_Request]) -> None:
        if not run:
            return
        try:
            first = await self._write_batch([m for request in run for m in request.messages])
        except Exception as exc:
            for request in run:
                request.done.set_exception(exc)
            return
        for request in run:
            request.done.set_result(Appended(first, len(request.messages)))
            first += len(request.messages)
