"""Group commit: concurrent produce requests to one topic share one transaction.

Each request queues itself and waits for its answer. A request that finds no write under
way starts one, with what is queued (a lone request writes at once: there is no timer to
wait for); that write then takes everything queued while it ran, in arrival order, until
nothing is left. No request waits on a lock: with 64 producers, a lock handed from waiter
to waiter (each scanning the waiters queued behind it) cost a tenth of a produce's CPU.

Sequenced (idempotent) requests are judged inside the write, so many producers' sequenced
sends share one transaction too; the only cut is a second sequenced request of one
producer, which must see the first one's outcome and so goes into the next transaction.

A pipelining producer has several numbered requests on the wire at once, and they may
reach the queue in any order. So one producer's sequenced requests queued together are
written in sequence order, and a request judged ahead of its producer (its sequence past
the expected one: a predecessor has not arrived yet) is judged again after each later
write, for up to ``AHEAD_WAIT`` seconds, before its 409 is answered. The rules stay the
database's: this only gives the predecessor the chance to be stored first.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from app.domain import AppendOutcome, AppendRequest

WriteRequests = Callable[[Sequence[AppendRequest]], Awaitable[list[AppendOutcome]]]

AHEAD_WAIT = 0.5
"""Seconds a request judged ahead of its producer waits for its predecessors' writes: the
predecessors of a pipelining producer are a request parse away (milliseconds)."""


@dataclass(slots=True)
class _Queued:
    request: AppendRequest
    done: asyncio.Future[AppendOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    written: int = 0
    """The committer's count of writes once this one's was done."""


class GroupCommitter:
    """One per topic; every call resolves once its write is committed (or has failed)."""

    def __init__(self, write: WriteRequests) -> None:
        self._write = write
        self._queued: list[_Queued] = []
        self._flushing: asyncio.Task[None] | None = None
        self._writes = 0
        self._next_write: asyncio.Future[None] | None = None

    async def append(self, request: AppendRequest) -> AppendOutcome:
        deadline: float | None = None
        while True:
            queued = _Queued(request)
            outcome = await self._append(queued)
            if not _ahead(request, outcome):
                return outcome
            now = asyncio.get_running_loop().time()
            deadline = deadline or now + AHEAD_WAIT
            if not await self._written_since(queued.written, deadline - now):
                return outcome

    async def _written_since(self, writes: int, timeout: float) -> bool:
        """Wait until a write after the ``writes``-th is done; False after ``timeout``."""
        if self._writes > writes:
            return True
        if self._next_write is None:
            self._next_write = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._next_write), timeout)
        except TimeoutError:
            return False
        return True

    async def _append(self, queued: _Queued) -> AppendOutcome:
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
                for run in _transactions(_in_sequence(batch)):
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
        finally:
            self._writes += 1
            if self._next_write is not None:
                self._next_write.set_result(None)
                self._next_write = None
        for queued, outcome in zip(run, outcomes, strict=True):
            queued.written = self._writes
            if not queued.done.done():
                queued.done.set_result(outcome)


def _ahead(request: AppendRequest, outcome: AppendOutcome) -> bool:
    """Judged out of order with a sequence past the expected one: a predecessor is missing."""
    return (
        outcome.outcome == "out_of_order"
        and request.sequence is not None
        and request.sequence > outcome.expected
    )


def _in_sequence(batch: list[_Queued]) -> list[_Queued]:
    """The queue with each producer's sequenced requests in sequence order, in the places
    they took (they may arrive in any order from a pipelining producer)."""
    places: dict[int, list[int]] = {}
    for index, queued in enumerate(batch):
        if queued.request.sequence is not None:
            places.setdefault(queued.request.producer_id, []).append(index)
    ordered = list(batch)
    for indexes in places.values():
        if len(indexes) > 1:
            requests = sorted((batch[i] for i in indexes), key=lambda q: q.request.sequence or 0)
            for index, queued in zip(indexes, requests, strict=True):
                ordered[index] = queued
    return ordered


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
