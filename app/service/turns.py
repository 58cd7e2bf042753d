"""Long polls on one consumer id take turns.

Every produce used to wake every long poll of a topic; 2,000 polls on one consumer id then
each took a pooled connection to queue on that consumer's row lock, starving produces and
answering healthy requests 503. Now only the poll holding its consumer's turn reads and
waits for produces; the others stay parked, holding nothing, until it is answered. Their
number per consumer id is capped (then 429).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from app.errors import TooManyWaiters


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    polls: int = 0


class ConsumerTurns:
    def __init__(self, max_per_consumer: int) -> None:
        self._max_per_consumer = max_per_consumer
        # Only consumers with a poll in flight have an entry, so this stays small.
        self._turns: dict[int, _Turn] = {}

    def __len__(self) -> int:
        return len(self._turns)

    def busy(self, consumer_id: int) -> bool:
        turn = self._turns.get(consumer_id)
        return turn is not None and turn.lock.locked()

    @contextlib.asynccontextmanager
    async def take(
        self, consumer_id: int, timeout: float, gone: asyncio.Event
    ) -> AsyncIterator[bool]:
        """Yields True once this poll holds the consumer's turn; False if ``timeout``
        passed or the client left (``gone``) first."""
        turn = self._turns.setdefault(consumer_id, _Turn())
        if turn.polls >= self._max_per_consumer:
            raise TooManyWaiters(self._max_per_consumer, consumer_id)
        turn.polls += 1
        try:
            held = await _acquire(turn.lock, timeout, gone)
            try:
                yield held
            finally:
                if held:
                    turn.lock.release()
        finally:
            turn.polls -= 1
            if turn.polls == 0:
                del self._turns[consumer_id]


async def _acquire(lock: asyncio.Lock, timeout: float, gone: asyncio.Event) -> bool:
    if not lock.locked() and not gone.is_set():
        await lock.acquire()  # free: taken at once, without tasks
        return True
    acquiring = asyncio.ensure_future(lock.acquire())
    leaving = asyncio.ensure_future(gone.wait())
    answered = False
    try:
        await asyncio.wait({acquiring, leaving}, timeout=timeout, return_when="FIRST_COMPLETED")
        answered = True
    finally:
        leaving.cancel()
        held = await _settle(acquiring)
        if held and (gone.is_set() or not answered):
            lock.release()  # taken, but this poll will not use it
            held = False
    return held


async def _settle(acquiring: "asyncio.Future[Any]") -> bool:
    """Whether the lock ended up held: a cancelled acquire never holds it."""
    if not acquiring.done():
        acquiring.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await acquiring
    return not acquiring.cancelled()
