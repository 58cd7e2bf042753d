"""What asyncio does differently from threads, under names both flavours share.

``scripts/unasync.py`` rewrites the rest of this package line by line into ``_sync``; these
differ in more than spelling, so ``_sync/_primitives.py`` is their hand-written twin.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from logqueue_sdk.errors import LogQueueError

logger = logging.getLogger("logqueue_sdk")

Event = asyncio.Event
Lock = asyncio.Lock
Condition = asyncio.Condition
Future = asyncio.Future
Handle = asyncio.Task

T = TypeVar("T")


async def sleep(delay: float) -> None:
    await asyncio.sleep(delay)


async def wait(event: Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``event``; True if it was set."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True


async def wait_for(condition: Condition, predicate: Callable[[], bool], timeout: float) -> bool:
    """``condition.wait_for(predicate)`` for at most ``timeout`` seconds (the lock held)."""
    try:
        await asyncio.wait_for(condition.wait_for(predicate), timeout)
    except TimeoutError:
        return predicate()
    return True


class Futures:
    """Makes a producer's futures, one per ``produce()``, and resolves them: futures of
    the running loop, resolved by a task (the threaded twin shares one condition)."""

    def new(self) -> "Future[bool]":
        return asyncio.get_running_loop().create_future()

    def settle(self, futures: Iterable["Future[bool]"], result: bool) -> None:
        """Resolve every future not yet done with ``result``."""
        for future in futures:
            if not future.done():
                future.set_result(result)


async def result_of(future: "Future[bool]") -> bool:
    return await future


class Workers(Generic[T]):
    """Runs a producer's requests beside its sender: tasks here, a pool of threads in the
    threaded twin (which is why ``size`` is asked for)."""

    def __init__(self, size: int, name: str) -> None:
        self._name = name

    def start(self, work: Callable[[], Coroutine[Any, Any, T]]) -> "Handle[T]":
        return asyncio.get_running_loop().create_task(work(), name=self._name)

    async def close(self) -> None:
        """Nothing to release: the sender awaits every task it started."""


async def outcome_of(handle: "Handle[T]") -> T:
    return await handle


class Background:
    """Work running beside its caller: a task here, a thread in the threaded twin."""

    def __init__(self, work: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        self._task = asyncio.get_running_loop().create_task(work(), name=name)

    async def join(self) -> None:
        await self._task


class Keepalive:
    """Calls ``renew`` every ``period`` seconds inside ``async with``; stops at the first
    failure (the lease is gone, so renewing it again cannot help)."""

    def __init__(self, renew: Callable[[], Awaitable[Any]], period: float) -> None:
        self._renew = renew
        self._period = period
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), self._period)
                return
            try:
                await self._renew()
            except LogQueueError as exc:
                logger.warning("could not extend the lease: %s", exc.message)
                return

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._task is not None:
            await self._task
