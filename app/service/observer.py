"""What the queue service reports as it works, for whoever watches (metrics, in the app).

The service only knows this protocol, so it never imports a metrics library.
"""

from typing import Protocol


class QueueObserver(Protocol):
    def committed(self, topic: str, messages: int) -> None:
        """``messages`` were stored in one group-commit transaction."""

    def consumed(self, topic: str, messages: int) -> None:
        """``messages`` were handed to a consumer."""

    def topic_deleted(self, topic: str) -> None:
        """The topic is gone: forget what was recorded under its name."""


class NoObserver:
    """For a service nobody watches (tests that build one without an app)."""

    def committed(self, topic: str, messages: int) -> None:
        pass

    def consumed(self, topic: str, messages: int) -> None:
        pass

    def topic_deleted(self, topic: str) -> None:
        pass
