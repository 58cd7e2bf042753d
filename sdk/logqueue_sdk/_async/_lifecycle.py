"""When an asyncio producer or consumer registers and how it ends: the part of the API that
differs between the flavours, so ``_sync/_lifecycle.py`` is its hand-written twin.

A constructor cannot await, so here registering on the listed topics waits for ``start()``
or ``async with`` (or the first use of each topic).
"""

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from .client import AsyncClient


class Lifecycle(ABC):
    """``start()``, ``async with`` and the constructor's part, around ``_register_listed``."""

    client: AsyncClient

    def _begin(self) -> None:  # noqa: B027 (deliberately nothing, unlike the threaded twin)
        """The end of the constructor: nothing to do until ``start()``."""

    async def start(self) -> None:
        """Register on the topics given to the constructor that have no id yet."""
        await self._register_listed()

    @abstractmethod
    async def _register_listed(self) -> None:
        """Register on each listed topic that has no id yet."""

    @abstractmethod
    async def stop(self) -> None:
        """End the producer or consumer and release its connection pool."""

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.client.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        await self.stop()
