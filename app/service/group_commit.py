"""Group commit: concurrent produce requests to one topic share one transaction.

Each request queues itself and waits for its answer. A request that finds no write under
way starts one, with what is queued (a lone request writes at once: there is no timer to
wait for); that write then takes everything queued while it ran, in arrival order, until
nothing is left. No request waits on a lock: with 64 producers, a lock handed from waiter
to waiter (each scanning the waiters queued behind it) cost a tenth of a produce's CPU.

Sequenced (idempotent) requests are judged inside the write, so many producers' sequenced
sends share one transaction too; the only cut is a second sequenced request of one
producer, which must see the first one's outcome and so goes into the next transaction.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from app.domain import AppendOutcome, AppendRequest

WriteRequests = Callable[[Sequence[AppendRequest]], Awaitable[list[AppendOutcome]]]


@dataclass(slots=True)
class _Queued:
    request: AppendRequest
    done: asyncio.Future[AppendOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommitter:
    """One per topic; every call resolves once its write is committed (or has failed)."""

    def __init__(self, write: WriteRequests) -> None:
        self._write = write
        self._queued: list[_Queued] = []
        self._flushing: asyncio.Task[None] | None = None

    async def append(self, request: AppendRequest) -> AppendOutcome:
        queued = _Queued(request)
        self._queued.append(queued)
        if self._flushing is None:
            batch, self._queued = self._queued, []
            # A task of its own, so a cancelled request never cuts a write short.
            self._flushing = asyncio.create_task(self._flush(batch))
        return await queued.done

    async def drain(self) -> None:
        """Wait for a write still running (its requests may have been cancelled) to finish.

        Shutdown calls this before closing the pool, so no commit is cut off mid-way.
        """
        if self._flushing is not None:
            await asyncio.wait([self._flushing])

    async def _flush(self, batch: list[_Queued]) -> None:
        try:
            while batch:
                for run in _transactions(batch):
                    await self._write_run(run)
                batch, self._queued = self._queued, []
        finally:
            self._flushing = None

    async def _write_run(self, run: list[_Queued]) -> None:
        try:
            outcomes = await self._write([queued.request for queued in run])
        except Exception as exc:
            for queued in run:
                if not queued.done.done():  # its request was cancelled
                    queued.done.set_exception(exc)
            return
        for queued, outcome in zip(run, outcomes, strict=True):
            if not queued.done.done():
                queued.done.set_result(outcome)


def _transactions(batch: list[_Queued]) -> list[list[_Queued]]:
    """Split the queue, in order, where a sequenced producer would appear twice."""
    runs: list[list[_Queued]] = [[]]
    sequenced: set[int] = set()
    for queued in batch:
        request = queued.request
        if request.sequence is not None:
            if request.producer_id in sequenced:
                runs.append([])
                sequenced.clear()
            sequenced.add(request.producer_id)
        runs[-1].append(queued)
    return runs
