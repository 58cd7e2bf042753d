"""Requests in flight, counted so that ``stop()`` can wait for them before closing the pool."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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

    @asynccontextmanager
    async def open(self) -> AsyncIterator[None]:
        async with self._changed:
            if self.closed:
                raise Stopped(f"the {self._role} is stopped")
            self.busy += 1
        try:
            yield
        finally:
            async with self._changed:
                self.busy -= 1
                self._changed.notify_all()

    async def close(self) -> None:
        async with self._changed:
            self.closed = True
            await self._changed.wait_for(lambda: self.busy == 0)
