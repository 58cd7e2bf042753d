"""The queue's value types, shared by every layer.

Plain frozen dataclasses that import nothing of the web framework or the database
toolkit, so the service and storage layers can exchange them without depending on HTTP,
and the routers can render them without depending on SQL.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class TopicRecord:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ClientBinding:
    """The topic a producer or consumer id was registered for, and by which API key
    (its fingerprint; None when registered with access control off)."""

    topic_id: int
    owner: str | None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    offset: int
    body: str
    produced_at: datetime


@dataclass(frozen=True, slots=True)
class EncodedMessages:
    """A batch of stored messages already encoded as the JSON array the API answers with,
    ``[{"offset": N, "message": "...", "produced_at": "<RFC 3339, UTC, Z>"}, ...]`` in
    offset order: a batch consume then builds no Python object per message
    (``app/storage/message_json.py``). Its length is the number of messages."""

    count: int
    json: bytes

    def __len__(self) -> int:
        return self.count


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """One produce request's messages for one topic, in the producer's order.

    With a ``sequence`` the request is idempotent: it is stored only if the sequence is
    the producer's next one (see ``judge_sequence``).
    """

    producer_id: int
    bodies: Sequence[str]
    sequence: int | None = None


Outcome = Literal["stored", "duplicate", "out_of_order", "no_producer"]


@dataclass(frozen=True, slots=True)
class AppendOutcome:
    """What became of one request in a write: where its messages are (``stored``, or
    ``duplicate`` for a repeat of the producer's last sequence, with the original
    offsets), or why nothing was stored (``expected`` names the sequence wanted)."""

    outcome: Outcome
    first: int = 0
    count: int = 0
    expected: int = 0


def judge_sequence(
    last: int | None, sequence: int
) -> Literal["stored", "duplicate", "out_of_order"]:
    """The idempotence rule: the next sequence is stored, a repeat of the last one is a
    duplicate (answered with the original offsets), anything else is out of order."""
    if last is not None and sequence == last:
        return "duplicate"
    return "stored" if sequence == next_sequence(last) else "out_of_order"


def next_sequence(last: int | None) -> int:
    return 0 if last is None else last + 1


@dataclass(frozen=True, slots=True)
class Appended:
    """Where a request's messages are; ``duplicate`` when a retry found them already stored."""

    first: int
    count: int
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Retention:
    """A topic's limits; None means unlimited. Whichever cuts more wins."""

    messages: int | None = None
    ms: int | None = None


@dataclass(frozen=True, slots=True)
class ConsumerPosition:
    consumer_id: int
    offset: int
    lag: int


DEFAULT_CLIENTS_PAGE = 100


@dataclass(frozen=True, slots=True)
class ClientsPage:
    """Which of a topic's producers and consumers to describe: up to ``limit`` of each, in
    id order, after the given ids (0: from the first). Ids never change, so paging by them
    repeats none however clients come and go meanwhile."""

    limit: int = DEFAULT_CLIENTS_PAGE
    producers_after: int = 0
    consumers_after: int = 0


@dataclass(frozen=True, slots=True)
class TopicDetails:
    name: str
    first_offset: int
    next_offset: int
    retention: Retention
    created_at: datetime
    producers: list[int]
    consumers: list[ConsumerPosition]
    producer_count: int
    consumer_count: int
    # Whether more producers (consumers) follow the listed ones.
    more_producers: bool
    more_consumers: bool


@dataclass(frozen=True, slots=True)
class ConsumerLag:
    topic: str
    consumer_id: int
    lag: int


@dataclass(frozen=True, slots=True)
class LagReport:
    """The ``limit`` largest lags, and how many consumers there are in all."""

    lags: list[ConsumerLag]
    consumers: int


@dataclass(frozen=True, slots=True)
class RetainedTopic:
    id: int
    name: str
    retention: Retention
