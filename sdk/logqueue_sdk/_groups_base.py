"""Consumer groups, the part both flavours share: request shapes and answers (no I/O).

Every group call is safe to repeat after a lost answer: a repeated fetch only leases other
messages (the unanswered lease expires and its messages come back), and a repeated ack,
nack, extend or term either finds the lease as it was or is refused as ``LeaseExpired``.
"""

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from logqueue_sdk._base import MAX_WAIT_MS, Call, Retry, require_positive

DEFAULT_GROUP_BATCH = 100
DEFAULT_GROUP_WAIT = 5.0

Verb = Literal["ack", "nack", "term"]

StartAt = Literal["earliest", "latest"] | int | datetime
"""Where a group starts (or seeks to): the oldest kept message, the next new one, an
offset, or the first message produced at or after a time."""


@dataclass(frozen=True)
class GroupInfo:
    """A group's settings and counts, as the broker reports them."""

    topic: str
    group: str
    ack_wait: float
    """Seconds a lease lasts unless extended."""
    max_deliver: int
    dead_letter_topic: str | None
    next_offset: int
    pending: int
    acked: int
    redelivered: int
    dead_lettered: int
    skipped: int
    lag: int
    """Messages produced and not yet finished by the group."""
    created_at: datetime


class Delivered:
    """One leased message as received. Built per message of every fetch, so it is a slotted
    class that parses its timestamp only when asked (that halved a 1,000-message fetch's
    client time)."""

    __slots__ = ("_stamp", "body", "delivery", "offset", "topic")

    def __init__(self, topic: str, item: dict[str, Any]) -> None:
        self.topic = topic
        self.offset: int = item["offset"]
        self.body: str = item["message"]
        self.delivery: int = item["delivery"]
        """Deliveries of this message to the group, this one included (1 the first time)."""
        self._stamp: str = item["produced_at"]

    @property
    def produced_at(self) -> datetime:
        """When the broker committed it."""
        return _stamp(self._stamp)


@dataclass(frozen=True)
class LeaseData:
    lease_id: str
    expires_at: datetime
    items: list[dict[str, Any]]


def default_member() -> str:
    """host-pid-random: unique enough to tell members apart in the broker's logs."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _path(topic: str, group: str, verb: str = "") -> str:
    base = f"/topics/{quote(topic, safe='')}/groups"
    if group:
        base += f"/{quote(group, safe='')}"
    return f"{base}/{verb}" if verb else base


def start_body(start: StartAt) -> str | dict[str, Any]:
    if isinstance(start, datetime):
        stamp = start if start.tzinfo else start.replace(tzinfo=UTC)
        return {"time": stamp.isoformat()}
    if isinstance(start, bool) or not isinstance(start, (int, str)):
        raise TypeError("start is 'earliest', 'latest', an offset or a datetime")
    return {"offset": start} if isinstance(start, int) else start


def put_group_call(
    topic: str,
    group: str,
    start: StartAt,
    ack_wait: float | None,
    max_deliver: int | None,
    dead_letter_topic: str | None,
) -> Call:
    body: dict[str, Any] = {"start": start_body(start)}
    if ack_wait is not None:
        body["ack_wait_ms"] = round(require_positive(ack_wait, "ack_wait") * 1000)
    if max_deliver is not None:
        body["max_deliver"] = max_deliver
    if dead_letter_topic is not None:
        body["dead_letter_topic"] = dead_letter_topic
    return Call("PUT", _path(topic, group), Retry.SAFE, json=body)


def group_details_call(topic: str, group: str) -> Call:
    return Call("GET", _path(topic, group), Retry.SAFE)


def list_groups_call(topic: str) -> Call:
    return Call("GET", _path(topic, ""), Retry.SAFE)


def delete_group_call(topic: str, group: str) -> Call:
    """Not repeated once sent: a repeat of a delete that did succeed would answer 404."""
    return Call("DELETE", _path(topic, group), Retry.UNSENT)


def seek_call(topic: str, group: str, start: StartAt) -> Call:
    return Call("POST", _path(topic, group, "seek"), Retry.SAFE, json={"start": start_body(start)})


def fetch_call(topic: str, group: str, member: str, max_messages: int, wait: float) -> Call:
    wait_ms = min(MAX_WAIT_MS, round(wait * 1000))
    body = {"member": member, "max_messages": max_messages, "wait_ms": wait_ms}
    return Call("POST", _path(topic, group, "fetch"), Retry.SAFE, json=body, wait=wait_ms / 1000)


def settle_call(
    topic: str,
    group: str,
    verb: Verb,
    lease_id: str,
    offsets: list[int] | None,
    delay: float = 0.0,
) -> Call:
    body: dict[str, Any] = {"lease_id": lease_id}
    if offsets is not None:
        body["offsets"] = offsets
    if verb == "nack" and delay:
        body["delay_ms"] = round(delay * 1000)
    return Call("POST", _path(topic, group, verb), Retry.SAFE, json=body)


def extend_call(topic: str, group: str, lease_id: str, seconds: float | None) -> Call:
    body: dict[str, Any] = {"lease_id": lease_id}
    if seconds is not None:
        body["ms"] = round(require_positive(seconds, "seconds") * 1000)
    return Call("POST", _path(topic, group, "extend"), Retry.SAFE, json=body)


def parse_group(body: dict[str, Any]) -> GroupInfo:
    return _info(body["group"])


def parse_groups(body: dict[str, Any]) -> list[GroupInfo]:
    return [_info(item) for item in body["groups"]]


def _info(item: dict[str, Any]) -> GroupInfo:
    return GroupInfo(
        topic=str(item["topic"]),
        group=str(item["group"]),
        ack_wait=int(item["ack_wait_ms"]) / 1000,
        max_deliver=int(item["max_deliver"]),
        dead_letter_topic=item.get("dead_letter_topic"),
        next_offset=int(item["next_offset"]),
        pending=int(item["pending"]),
        acked=int(item["acked"]),
        redelivered=int(item["redelivered"]),
        dead_lettered=int(item["dead_lettered"]),
        skipped=int(item.get("skipped", 0)),
        lag=int(item["lag"]),
        created_at=_stamp(item["created_at"]),
    )


def parse_fetched(body: dict[str, Any]) -> LeaseData | None:
    """The lease, or None when the broker had nothing to give."""
    if body.get("lease_id") is None:
        return None
    return LeaseData(str(body["lease_id"]), _stamp(body["lease_expires_at"]), body["messages"])


def parse_expiry(body: dict[str, Any]) -> datetime:
    return _stamp(body["lease_expires_at"])


def parse_count(body: dict[str, Any], key: str) -> int:
    return int(body[key])


def _stamp(value: str) -> datetime:
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def keepalive_period(ack_wait: float) -> float:
    """How often ``process`` extends a lease under a slow handler: well inside ack_wait."""
    return max(ack_wait / 3, 0.01)
