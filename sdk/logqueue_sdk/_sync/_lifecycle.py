"""When a threaded producer or consumer registers and how it ends: the hand-written twin of
``_async/_lifecycle.py``.

A plain constructor can do I/O, so ``Producer(topics=[...])`` registers at once and is
ready to send (the course's example relies on it); there is no ``start()``.
"""

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from .client import Client


class Lifecycle(ABC):
    """``with`` and the constructor's part, around ``_register_listed``."""

    client: Client

    def _begin(self) -> None:
        """The end of the constructor: register now; on failure release the pool, not leak it."""
        try:
            self._register_listed()
        except BaseException:
            self.client.close()
            raise

    @abstractmethod
    def _register_listed(self) -> None:
        """Register on each listed topic that has no id yet."""

    @abstractmethod
    def stop(self) -> None:
        """End the producer or consumer and release its connection pool."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.stop()
