"""What threads do differently from asyncio, under names both flavours share.

The hand-written twin of ``_async/_primitives.py``; the rest of this package is generated.
"""

import concurrent.futures
import threading
import time
from collections.abc import Callable

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
