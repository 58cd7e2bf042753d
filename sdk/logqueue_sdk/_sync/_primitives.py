"""What threads do differently from asyncio, under names both flavours share.

The hand-written twin of ``_async/_primitives.py``; the rest of this package is generated.
"""

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from logqueue_sdk.errors import LogQueueError

logger = logging.getLogger("logqueue_sdk")

Event = threading.Event
Lock = threading.Lock
Condition = threading.Condition
Future = concurrent.futures.Future


def sleep(delay: float) -> None:
    time.sleep(delay)


def wait(event: Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``event``; True if it was set."""
    return event.wait(timeout)


def wait_for(condition: Condition, predicate: Callable[[], bool], timeout: float) -> bool:
    """``condition.wait_for(predicate)`` for at most ``timeout`` seconds (the lock held)."""
    return condition.wait_for(predicate, timeout)


def new_future() -> "Future[bool]":
    """A future resolved by another thread."""
    return Future()


def result_of(future: "Future[bool]") -> bool:
    return future.result()


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
