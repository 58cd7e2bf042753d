"""Consumer-group value types, shared by storage, service and API (no FastAPI here).

A lease id is ``<group id>.<token>``: the group part lets any server process tell a lease
of another group (404) from one that has expired (409) without remembering leases.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import orjson

from app.domain import EncodedMessages

DEFAULT_ACK_WAIT_MS = 30_000
DEFAULT_MAX_DELIVER = 5

# Why a message was dead-lettered: delivered max_deliver times unacked, or termed.
DeathReason = Literal["max_deliver", "term"]


@dataclass(frozen=True, slots=True)
class Start:
    """Where a group begins (at creation) or moves to (seek)."""

    kind: Literal["earliest", "latest", "offset", "time"]
    offset: int = 0
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """A group's knobs; on update, None leaves a setting as it is (see ``keep``)."""

    ack_wait_ms: int = DEFAULT_ACK_WAIT_MS
    max_deliver: int = DEFAULT_MAX_DELIVER
    dead_letter_topic: str | None = None


@dataclass(frozen=True, slots=True)
class GroupDetails:
    topic: str
    name: str
    settings: GroupSettings
    next_offset: int
    pending: int
    acked: int
    redelivered: int
    dead_lettered: int
    skipped: int
    lag: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LeasedMessage:
    offset: int
    body: str
    produced_at: datetime
    delivery: int


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch found; ``token`` is None when nothing was leased. The messages come
    encoded as the answer's JSON array, each with its ``delivery`` count.

    ``due_ms`` is when the group's next unfinished message becomes deliverable again (an
    expiring lease, a nack's delay), so a long poll knows how long it may sleep.
    """

    topic_id: int
    group_id: int
    token: int | None
    expires_at_ms: int
    messages: EncodedMessages
    now_ms: int
    due_ms: int | None
    woken_topics: list[int]


@dataclass(frozen=True, slots=True)
class Settled:
    """Result of ack / nack / term / extend on a lease."""

    outcome: Literal["ok", "no_group", "other_group", "expired", "not_in_lease"]
    count: int = 0
    expires_at_ms: int = 0
    woken_topics: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message finished as dead, as written to the group's dead-letter topic."""

    topic: str
    group: str
    offset: int
    delivery: int
    reason: DeathReason
    body: str
    produced_at: datetime

    def envelope(self) -> str:
        """The JSON document appended to the dead-letter topic (documented in the README)."""
        return orjson.dumps(
            {
                "topic": self.topic,
                "group": self.group,
                "offset": self.offset,
                "delivery": self.delivery,
                "reason": self.reason,
                "message": self.body,
                "produced_at": self.produced_at,
            },
            option=orjson.OPT_UTC_Z,
        ).decode()


def format_lease_id(group_id: int, token: int) -> str:
    return f"{group_id}.{token}"


def parse_lease_id(lease_id: str) -> tuple[int, int] | None:
    """(group id, token), or None for a string this server never hands out."""
    group, dot, token = lease_id.partition(".")
    if not (dot and group.isdecimal() and token.isdecimal()):
        return None
    if len(group) > 19 or len(token) > 19:
        return None
    group_id, token_value = int(group), int(token)
    if not (0 < group_id < 2**63 and 0 < token_value < 2**63):
        return None
    return group_id, token_value
