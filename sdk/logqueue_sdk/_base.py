"""What both client flavours share: broker URLs, request shapes, the meaning of answers,
retry timing and a consumer's polling state.

Everything here is pure (no I/O), so ``_async`` (and ``_sync``, generated from it) is only the
glue that sends a ``Call`` and feeds the answer back.
"""

import dataclasses
import enum
import json
import os
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from logqueue_sdk.errors import (
    AccessDenied,
    BrokerUnavailable,
    GroupNotFound,
    InvalidRequest,
    LeaseExpired,
    LogQueueError,
    NotRegistered,
    SequenceConflict,
    TopicExists,
    TopicNotFound,
)
from logqueue_sdk.models import BrokerStatus, Message

DEFAULT_BROKER = "http://127.0.0.1:8000"
API_KEY_ENV = "LOGQUEUE_API_KEY"
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 5
# The broker's default LOGQUEUE_MAX_BATCH: one request per 1,000 messages instead of per 100
# took a get_next() drain from 7,800 to 31,000 msgs/s (client CPU 14.9 -> 4.5 us a message).
DEFAULT_BATCH_SIZE = 1000
DEFAULT_MAX_WAIT = 0.5
DEFAULT_LINGER = 0.0
DEFAULT_MAX_BATCH = 1000
DEFAULT_MAX_QUEUED = 10_000
IN_FLIGHT = 4
"""Calls one producer id keeps on the wire at once: a batch of 1,000 takes several ms to
commit, so one at a time caps a producer near 1,000 messages a round trip."""
FIRST_IDLE_WAIT = 0.05
MAX_WAIT_MS = 30_000

Role = Literal["producer", "consumer"]


def normalise_broker(broker: str) -> str:
    """Accept ``localhost:8000`` as the original assignment wrote it, as well as full URLs."""
    url = broker.strip().rstrip("/")
    if not url:
        raise ValueError("broker address is empty")
    return url if "://" in url else f"http://{url}"


def auth_headers(api_key: str | None) -> dict[str, str]:
    """The bearer header a broker with access control wants; none when no key is known."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    return {"Authorization": f"Bearer {key}"} if key else {}


def require_positive(value: float, name: str) -> float:
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value


def require_not_negative(value: float, name: str) -> float:
    if value < 0:
        raise ValueError(f"{name} must be 0 or more")
    return value


def message_text(message: str | bytes) -> str:
    """The broker stores text; bytes must be UTF-8, refused here before anything is sent."""
    if isinstance(message, str):
        return message
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"message is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        raise InvalidRequest(reason) from None


# --- requests ------------------------------------------------------------------------------


class Retry(enum.Enum):
    """How freely a call may be repeated after a failure."""

    SAFE = "safe"
    """Repeating changes nothing, so any transport error or 5xx is retried: reads, and
    produces that carry a sequence (the broker answers a repeat with the original offsets)."""
    UNSENT = "unsent"
    """Changes state: retried only when the request certainly never reached the broker."""


@dataclass(frozen=True)
class Call:
    """One HTTP request, described without sending it."""

    method: str
    path: str
    retry: Retry
    params: dict[str, str | int] | None = None
    json: dict[str, Any] | None = None
    wait: float = 0.0
    """Seconds the broker may hold the request (long poll), added to the client's timeout."""


def status_call() -> Call:
    return Call("GET", "/status", Retry.SAFE)


def list_topics_call() -> Call:
    return Call("GET", "/topics", Retry.SAFE)


def create_topic_call(name: str) -> Call:
    """Not repeated once sent: a repeat of a create that did succeed would answer 409."""
    return Call("POST", "/topics", Retry.UNSENT, json={"topic_name": name})


def register_call(role: Role, topic: str) -> Call:
    """Not repeated once sent: each registration issues a new id."""
    return Call("POST", f"/{role}/register", Retry.UNSENT, json={"topic": topic})


def delete_client_call(role: Role, client_id: int) -> Call:
    """Not repeated once sent: a repeat of a delete that did succeed would answer 404."""
    return Call("DELETE", f"/{role}/{client_id}", Retry.UNSENT)


def produce_call(topic: str, producer_id: int, message: str) -> Call:
    """Not repeated once sent until ``numbered``: without a sequence the broker cannot tell
    a repeat from a new message."""
    body = {"topic": topic, "producer_id": producer_id, "message": message}
    return Call("POST", "/producer/produce", Retry.UNSENT, json=body)


def produce_batch_call(topic: str, producer_id: int, messages: Sequence[str]) -> Call:
    body = {"topic": topic, "producer_id": producer_id, "messages": list(messages)}
    return Call("POST", "/producer/produce", Retry.UNSENT, json=body)


def numbered(call: Call, sequence: int) -> Call:
    """The produce ``call`` carrying ``sequence``, which makes it safe to repeat."""
    return dataclasses.replace(
        call, retry=Retry.SAFE, json={**(call.json or {}), "sequence": sequence}
    )


def consume_call(
    topic: str, consumer_id: int, *, max_messages: int | None = None, wait: float = 0.0
) -> Call:
    """Not repeated once sent: the broker advances the consumer's offset as it answers."""
    params: dict[str, str | int] = {"topic": topic, "consumer_id": consumer_id}
    if max_messages is None:
        return Call("GET", "/consumer/consume", Retry.UNSENT, params=params)
    wait_ms = min(MAX_WAIT_MS, round(wait * 1000))
    params |= {"max_messages": max_messages, "wait_ms": wait_ms}
    return Call("GET", "/consumer/consume", Retry.UNSENT, params=params, wait=wait_ms / 1000)


def size_call(topic: str, consumer_id: int) -> Call:
    return Call("GET", "/size", Retry.SAFE, params={"topic": topic, "consumer_id": consumer_id})


# --- retries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``retries`` is how many repeats may follow a first try."""

    retries: int = DEFAULT_RETRIES
    backoff: float = 0.1
    max_backoff: float = 2.0
    max_retry_after: float = 30.0

    def delay(self, attempt: int, jitter: float) -> float:
        """``attempt`` counts from 0; ``jitter`` in [0, 1) spreads out clients that failed
        together, so they do not all come back at the same instant."""
        ceiling = min(self.max_backoff, self.backoff * 2.0**attempt)
        return ceiling * (0.5 + jitter / 2)


def as_policy(retries: int | RetryPolicy) -> RetryPolicy:
    if isinstance(retries, RetryPolicy):
        return retries
    if retries < 0:
        raise ValueError("retries must be 0 or more")
    return RetryPolicy(retries=retries)


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def was_sent(error: httpx.TransportError) -> bool:
    """Whether the broker may have seen the request: only a failed connect proves it did not."""
    return not isinstance(error, _NOT_SENT)


def retry_after_error(
    policy: RetryPolicy,
    call: Call,
    attempt: int,
    error: httpx.TransportError,
    jitter: float | None = None,
) -> float | None:
    """Seconds to wait before repeating ``call`` after a transport error, or None to give up."""
    if attempt >= policy.retries or (call.retry is Retry.UNSENT and was_sent(error)):
        return None
    return policy.delay(attempt, random.random() if jitter is None else jitter)


def retry_after_status(
    policy: RetryPolicy,
    call: Call,
    attempt: int,
    status_code: int,
    retry_after: str | None,
    jitter: float | None = None,
) -> float | None:
    """Seconds to wait before repeating ``call`` after an HTTP answer, or None to keep it.

    Only 5xx answers to safe calls are repeated; the broker's ``Retry-After`` wins over the
    computed backoff (bounded, so a confused proxy cannot park the client for hours).
    """
    if status_code < 500 or call.retry is not Retry.SAFE or attempt >= policy.retries:
        return None
    asked = parse_retry_after(retry_after)
    if asked is not None:
        return min(asked, policy.max_retry_after)
    return policy.delay(attempt, random.random() if jitter is None else jitter)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` is either seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def unavailable(broker: str, call: Call, error: httpx.TransportError) -> BrokerUnavailable:
    """Say whether the call may have taken effect: callers decide differently in each case."""
    reason = str(error) or type(error).__name__
    if not was_sent(error):
        return BrokerUnavailable(f"Cannot reach the broker at {broker}: {reason}")
    doubt = "" if call.retry is Retry.SAFE else "; it may or may not have taken effect"
    return BrokerUnavailable(
        f"No answer from {broker} to {call.method} {call.path} ({reason}){doubt}"
    )


# --- answers -------------------------------------------------------------------------------


def interpret(status_code: int, content: bytes) -> dict[str, Any]:
    """The body of a successful answer, or the matching ``LogQueueError`` raised."""
    try:
        body = json.loads(content) if content else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = content.decode("utf-8", "replace").strip()[:200]
        if status_code >= 400:
            raise error_for(status_code, None, text or f"HTTP {status_code}")
        raise LogQueueError(f"Unexpected answer (not a LogQueue broker?): {text!r}", status_code)
    if status_code >= 400:
        message = str(body.get("message") or f"HTTP {status_code}")
        code = body.get("error")
        expected = body.get("expected")
        raise error_for(
            status_code,
            code if isinstance(code, str) else None,
            message,
            body.get("errors"),
            expected if isinstance(expected, int) else None,
        )
    return body


# The broker's error codes (its README lists them) and the class each becomes; a code not
# listed here (a newer broker's) is an ``InvalidRequest``, or a ``BrokerUnavailable`` for 5xx.
ERROR_CLASSES: dict[str, type[LogQueueError]] = {
    "topic_not_found": TopicNotFound,
    "topic_exists": TopicExists,
    "producer_not_found": NotRegistered,
    "consumer_not_found": NotRegistered,
    "wrong_topic": NotRegistered,
    "unauthenticated": AccessDenied,
    "forbidden": AccessDenied,
    "storage_unavailable": BrokerUnavailable,
    "internal_error": BrokerUnavailable,
    "group_not_found": GroupNotFound,
    "lease_expired": LeaseExpired,
    "sequence_conflict": SequenceConflict,
}


def error_for(
    status_code: int,
    code: str | None,
    message: str,
    errors: list[dict[str, Any]] | None = None,
    expected: int | None = None,
) -> LogQueueError:
    """The one mapping from the broker's failures to exception classes: by the machine code
    alone, never by the message's words (which the broker may reword)."""
    cls = ERROR_CLASSES.get(code or "")
    if cls is None:
        cls = BrokerUnavailable if status_code >= 500 else InvalidRequest
    if cls is InvalidRequest:
        return InvalidRequest(message, status_code, errors, code=code)
    if cls is SequenceConflict:
        return SequenceConflict(message, status_code, expected=expected)
    return cls(message, status_code, code=code)


def parse_status(body: dict[str, Any]) -> BrokerStatus:
    return BrokerStatus(
        healthy=body.get("status") == "success",
        database=str(body.get("database", "")),
        version=str(body.get("version", "")),
    )


def parse_topics(body: dict[str, Any]) -> list[str]:
    return [str(topic) for topic in body["topics"]]


def parse_id(body: dict[str, Any], role: Role) -> int:
    return int(body[f"{role}_id"])


def parse_size(body: dict[str, Any]) -> int:
    return int(body["size"])


def parse_consumed(topic: str, body: dict[str, Any]) -> list[Message]:
    """Messages from either answer shape: ``{"messages": [...]}`` to a batch consume (with
    ``max_messages``), one message or ``{"status": "failure", ...}`` to a single one."""
    if "messages" in body:
        return [_message(topic, item) for item in body["messages"]]
    if body.get("status") == "success":
        return [_message(topic, body)]
    return []


def _message(topic: str, item: dict[str, Any]) -> Message:
    stamp = item.get("produced_at")
    return Message(
        topic=topic,
        offset=int(item["offset"]),
        body=str(item["message"]),
        produced_at=_utc(datetime.fromisoformat(stamp)) if stamp else None,
    )


def _utc(stamp: datetime) -> datetime:
    """The broker writes UTC, but a SQLite-backed broker answers without the zone."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


# --- consumer state ------------------------------------------------------------------------


class Inbox:
    """A consumer's messages taken from the broker but not yet handed to the caller.

    Batches are fetched ahead, and the broker has already advanced the offset past them,
    so they are kept here until handed over rather than dropped.
    """

    def __init__(self, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self._held: dict[str, deque[Message]] = {}

    def fetch_call(self, topic: str, consumer_id: int, wait: float) -> Call:
        return consume_call(topic, consumer_id, max_messages=self.batch_size, wait=wait)

    def accept(self, topic: str, body: dict[str, Any]) -> int:
        """Keep the answer's messages for ``topic``; returns how many there were."""
        messages = parse_consumed(topic, body)
        self._held.setdefault(topic, deque()).extend(messages)
        return len(messages)

    def take(self, topic: str) -> Message | None:
        held = self._held.get(topic)
        return held.popleft() if held else None

    def take_any(self) -> Message | None:
        for held in self._held.values():
            if held:
                return held.popleft()
        return None

    def held(self, topic: str) -> int:
        return len(self._held.get(topic, ()))


class Rotation:
    """Round-robin over a consumer's topics, waiting longer and longer once idle.

    Nothing waits until a whole round of topics came back empty; then each poll may wait
    (on the broker with a long poll, or in the client) twice as long as the last one, up to
    ``max_wait``, and the first message resets it.
    """

    def __init__(self, max_wait: float) -> None:
        self._max_wait = max_wait
        self._turn = 0
        self._empty = 0
        self._wait = 0.0

    def next_topic(self, topics: Sequence[str]) -> str:
        topic = topics[self._turn % len(topics)]
        self._turn += 1
        return topic

    def next_wait(self, topic_count: int) -> float:
        if self._empty < topic_count:
            return 0.0
        self._wait = min(self._max_wait, self._wait * 2 or FIRST_IDLE_WAIT)
        return self._wait

    def record(self, found: int) -> None:
        if found:
            self._empty = 0
            self._wait = 0.0
        else:
            self._empty += 1


# --- producer state ------------------------------------------------------------------------


class Sequencer:
    """Numbers each producer id's sends 0, 1, 2, ... and keeps those not yet confirmed.

    A produce that got no usable answer may or may not have been stored. It is kept, with
    its number, and sent again before anything newer from that producer id: the broker
    answers a repeat of the last sequence with the original offsets, so it ends up stored
    exactly once. The number advances only when the broker confirms; a refusal (413, 422,
    ...) stored nothing, so the next call reuses it. Several kept calls may be on the wire
    at once (``at``), each numbered after the one before: the broker stores them only in
    that order, and the producer takes their answers oldest first (``AsyncProducer._drain``).
    """

    def __init__(self) -> None:
        self._next: dict[int, int] = {}
        self._kept: dict[int, deque[Call]] = {}

    def keep(self, producer_id: int, call: Call) -> None:
        """Queue an unnumbered produce ``call`` behind the producer id's kept ones."""
        self._kept.setdefault(producer_id, deque()).append(call)

    def first(self, producer_id: int) -> Call | None:
        """The oldest kept call, numbered: the same sequence and body on every attempt."""
        return self.at(producer_id, 0)

    def at(self, producer_id: int, position: int) -> Call | None:
        """The kept call at ``position`` (0 the oldest), numbered after those before it."""
        kept = self._kept.get(producer_id)
        if kept is None or position >= len(kept):
            return None
        return numbered(kept[position], self.next(producer_id) + position)

    def next(self, producer_id: int) -> int:
        """The sequence of the oldest kept call: the broker has stored every one below it."""
        return self._next.get(producer_id, 0)

    def forget(self, producer_id: int) -> None:
        """Drop the id: its calls moved to another id, and it is never sent on again."""
        self._kept.pop(producer_id, None)
        self._next.pop(producer_id, None)

    def confirmed(self, producer_id: int) -> Call:
        """The broker stored (or had stored) the oldest kept call: forget it, advance."""
        self._next[producer_id] = self._next.get(producer_id, 0) + 1
        return self._forget(producer_id)

    def refused(self, producer_id: int) -> Call:
        """The broker refused the oldest kept call and stored nothing: forget it only."""
        return self._forget(producer_id)

    def put_back(self, producer_id: int, calls: Sequence[Call]) -> None:
        """Put unnumbered ``calls`` back in front of the kept ones, in order (the halves of a
        refused batch, tried again to find the message at fault)."""
        self._kept.setdefault(producer_id, deque()).extendleft(reversed(calls))

    def kept(self, producer_id: int | None = None) -> int:
        """How many calls are kept for ``producer_id``, or for all ids."""
        if producer_id is None:
            return sum(len(kept) for kept in self._kept.values())
        return len(self._kept.get(producer_id, ()))

    def holding(self) -> list[int]:
        """Producer ids with kept calls."""
        return [producer_id for producer_id, kept in self._kept.items() if kept]

    def _forget(self, producer_id: int) -> Call:
        return self._kept[producer_id].popleft()


# --- streams -------------------------------------------------------------------------------

StreamStart = Literal["earliest", "latest"] | int

# The broker sends a keep-alive comment every 15 s on an idle stream: a connection silent for
# four of those is dead even if no FIN ever arrived.
STREAM_READ_TIMEOUT = 60.0


class StreamCursor:
    """A stream's position across connections.

    The first connection asks for ``from=start``; every later one sends the last offset
    received as ``Last-Event-ID``, so the broker resumes right after it: a dropped connection
    neither loses nor repeats a message. Lines are fed in as they arrive; an event is handed
    out only once its closing blank line has come, so a connection cut inside an event
    drops that partial event, which the next connection sends again whole.
    """

    def __init__(self, topic: str, start: StreamStart) -> None:
        if not (start in ("earliest", "latest") or (isinstance(start, int) and start >= 0)):
            raise ValueError("start must be 'earliest', 'latest' or an offset (0 or more)")
        self.topic = topic
        self._start = start
        self.last_offset: int | None = None
        self._data: list[str] = []

    def call(self) -> Call:
        params: dict[str, str | int] = {"from": self._start}
        return Call("GET", f"/topics/{self.topic}/stream", Retry.SAFE, params=params)

    def headers(self) -> dict[str, str]:
        return {} if self.last_offset is None else {"Last-Event-ID": str(self.last_offset)}

    def reconnecting(self) -> None:
        """Forget a partial event from the connection that was lost."""
        self._data = []

    def feed(self, line: str) -> Message | None:
        """One line of the event stream; the message once an event is complete."""
        if line.startswith("data:"):
            self._data.append(line[5:].removeprefix(" "))
            return None
        if line or not self._data:  # ids repeat the data's offset; comments keep alive
            return None
        message = _message(self.topic, json.loads("\n".join(self._data)))
        self._data = []
        self.last_offset = message.offset
        return message


def retry_stream(
    policy: RetryPolicy, attempt: int, status_code: int | None, jitter: float | None = None
) -> float | None:
    """Seconds to wait before reconnecting a stream, or None to give up and raise.

    Reconnecting is always safe (a stream changes nothing), so connection errors (``None``),
    a stream the broker ended (200: it shut down), 5xx and 429 (too many streams) are
    retried; other 4xx are the caller's to see.
    """
    retryable = status_code in (None, 200, 429) or (status_code or 0) >= 500
    if not retryable or attempt >= policy.retries:
        return None
    return policy.delay(attempt, random.random() if jitter is None else jitter)
