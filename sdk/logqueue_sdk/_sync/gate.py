# Generated from sdk/logqueue_sdk/_async/gate.py by scripts/unasync.py; edit that file.
"""Requests in flight, counted so that ``stop()`` can wait for them before closing the pool."""

from collections.abc import Iterator
from contextlib import contextmanager

from logqueue_sdk._base import Role
from logqueue_sdk.errors import Stopped

from ._primitives import Condition


class Gate:
    """Lets requests through until closed; ``close()`` returns once none is in flight."""

    def __init__(self, role: Role) -> None:
        self._role = role
        self._changed = Condition()
        self.busy = 0
        self.closed = False

    @contextmanager
    def open(self) -> Iterator[None]:
        with self._changed:
            if self.closed:
                raise Stopped(f"the {self._role} is stopped")
            self.busy += 1
        try:
            yield
        finally:
            with self._changed:
                self.busy -= 1
                self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.wait_for(lambda: self.busy == 0)
