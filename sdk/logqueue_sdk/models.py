"""Values the SDK hands back to callers."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Message:
    """One message of a topic's log, as a consumer received it.

    ``offset`` is its position in the topic (0, 1, 2, ...), the same for every consumer, so
    it identifies the message; ``produced_at`` is when the broker committed it.
    """

    topic: str
    offset: int
    body: str
    produced_at: datetime | None = None


@dataclass(frozen=True)
class BrokerStatus:
    """What ``/status`` reports: ``healthy`` is False when the broker cannot reach its database."""

    healthy: bool
    database: str
    version: str
