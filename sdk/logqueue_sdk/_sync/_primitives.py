"""What threads do differently from asyncio, under names both flavours share.

The hand-written twin of ``_async/_primitives.py``; the rest of this package is generated.
"""

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from logqueue_sdk.errors import LogQueueError

logger = logging.getLogger("logqueue_sdk")

Event = threading.Event
Lock = threading.Lock
Condition = threading.Condition
Future = concurrent.futures.Future
Handle = concurrent.futures.Future

T = TypeVar("T")


def sleep(delay: float) -> None:
    time.sleep(delay)


def wait(event: Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``event``; True if it was set."""
    return event.wait(timeout)


def wait_for(condition: Condition, predicate: Callable[[], bool], timeout: float) -> bool:
    """``condition.wait_for(predicate)`` for at most ``timeout`` seconds (the lock held)."""
    return condition.wait_for(predicate, timeout)


class Futures:
    """Makes a producer's futures, one per ``produce()``, and resolves them.

    A plain ``concurrent.futures.Future`` builds a ``threading.Condition`` of its own (an
    RLock, a deque and bound methods), which was 63 % of the client's time in ``produce()``
    in a loop (py-spy); these share their producer's one condition instead, and cost a
    quarter as much. Resolving a call's futures under that condition, held once, makes
    them all done before any waiter wakes.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()

    def new(self) -> "Future[bool]":
        return _SharedFuture(self._condition)

    def settle(self, futures: Iterable["Future[bool]"], result: bool) -> None:
        """Resolve every future not yet done with ``result``."""
        with self._condition:
            for future in futures:
                if not future.done():
                    future.set_result(result)


class _SharedFuture(Future[bool]):
    """A ``concurrent.futures.Future`` on a condition shared with its producer's others.

    It starts out running: a queued message is not withdrawn, so ``cancel()`` answers
    False, as it does for any future already running. ``Future.result()`` and
    ``exception()`` wait on the condition once and then give up; a shared condition is
    notified for the other futures too, so these wait until this one is done (or the
    timeout has passed) and then let ``Future`` answer. ``concurrent.futures.wait`` and
    ``as_completed`` use waiters of their own and need nothing else.
    """

    def __init__(self, condition: threading.Condition) -> None:
        # Not Future.__init__, which would build a Condition of its own.
        self._condition = condition
        self._state = concurrent.futures._base.RUNNING
        self._result = None
        self._exception = None
        self._waiters = []
        self._done_callbacks: list[Callable[[Future[bool]], object]] = []

    def result(self, timeout: float | None = None) -> bool:
        self._wait(timeout)
        return super().result(0)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._wait(timeout)
        return super().exception(0)

    def _wait(self, timeout: float | None) -> None:
        if self._state != concurrent.futures._base.FINISHED:  # final: no lock needed to see it
            with self._condition:
                self._condition.wait_for(self.done, timeout)


def result_of(future: "Future[bool]") -> bool:
    return future.result()


class Workers(Generic[T]):
    """Runs a producer's requests beside its sender: a pool of ``size`` threads, started on
    first use (a task each in the asyncio twin)."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def start(self, work: Callable[[], T]) -> "Handle[T]":
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(self._size, self._name)
        return self._pool.submit(work)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def outcome_of(handle: "Handle[T]") -> T:
    return handle.result()


class Background:
    """Work running beside its caller: a daemon thread here, a task in the asyncio twin."""

    def __init__(self, work: Callable[[], None], name: str) -> None:
        self._thread = threading.Thread(target=work, name=name, daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()


class Keepalive:
    """Calls ``renew`` every ``period`` seconds inside ``with``, from a thread; stops at the
    first failure (the lease is gone, so renewing it again cannot help)."""

    def __init__(self, renew: Callable[[], Any], period: float) -> None:
        self._renew = renew
        self._period = period
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._done.wait(self._period):
            try:
                self._renew()
            except LogQueueError as exc:
                logger.warning("could not extend the lease: %s", exc.message)
                return

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._run, daemon=True, name="logqueue-keepalive")
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
