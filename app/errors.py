"""Domain errors: every way a request can fail, each with its HTTP status, machine code and
headers as class attributes.

Services and storage raise these; ``app.api.errors`` turns any of them into the JSON body
``{"status": "failure", "error": <code>, "message": <sentence>}`` without knowing the
classes. Clients branch on ``code``, which never changes; ``message`` is for people and may
be reworded. This module imports nothing from FastAPI or Starlette.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

# At most this many field problems are spelled out in a 422; the rest are only counted, so
# a request with many bad items cannot make a huge answer.
MAX_FIELD_ERRORS = 10


class LogQueueError(Exception):
    """Base of every error a client can be answered with."""

    status_code: ClassVar[int]
    code: ClassVar[str]
    # One line for the README table and the OpenAPI document.
    meaning: ClassVar[str]
    # Class-wide for most errors; an instance may set its own (``Allow`` of a 405).
    headers: Mapping[str, str] = MappingProxyType({})

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON answer; subclasses with details add fields (the wire only gains fields)."""
        return {"status": "failure", "error": self.code, "message": self.message}


class InternalError(LogQueueError):
    """What an unexpected exception becomes: its details stay in the log."""

    status_code = 500
    code = "internal_error"
    meaning = "An unexpected server error (logged on the server); safe to report as a bug."

    def __init__(self) -> None:
        super().__init__("Internal server error")


class TopicNotFound(LogQueueError):
    status_code = 404
    code = "topic_not_found"
    meaning = "The topic does not exist."

    def __init__(self, topic: str) -> None:
        super().__init__(f"Topic '{topic}' does not exist")


class TopicExists(LogQueueError):
    status_code = 409
    code = "topic_exists"
    meaning = "A topic of that name already exists."

    def __init__(self, topic: str) -> None:
        super().__init__(f"Topic '{topic}' already exists")


class ProducerNotFound(LogQueueError):
    status_code = 404
    code = "producer_not_found"
    meaning = "No producer has that id (never registered, or its topic was deleted)."

    def __init__(self, producer_id: int) -> None:
        super().__init__(f"Producer {producer_id} is not registered")


class ConsumerNotFound(LogQueueError):
    status_code = 404
    code = "consumer_not_found"
    meaning = "No consumer has that id (never registered, or its topic was deleted)."

    def __init__(self, consumer_id: int) -> None:
        super().__init__(f"Consumer {consumer_id} is not registered")


class WrongTopic(LogQueueError):
    """An id used on a topic it was not registered for: ids are per-topic credentials."""

    status_code = 403
    code = "wrong_topic"
    meaning = "The producer or consumer id is registered for another topic."

    def __init__(self, role: str, client_id: int, topic: str) -> None:
        super().__init__(f"{role.capitalize()} {client_id} is not registered for topic '{topic}'")


class Unauthenticated(LogQueueError):
    """Access control is on and the request carries no known API key."""

    status_code = 401
    code = "unauthenticated"
    meaning = "Access control is on and the API key is missing or unknown."
    headers = MappingProxyType({"WWW-Authenticate": "Bearer"})


class Forbidden(LogQueueError):
    """A known API key asking for what it may not do (an admin action, another key's id)."""

    status_code = 403
    code = "forbidden"
    meaning = "The API key may not do this (an admin action, or another key's id)."


class InvalidRequest(LogQueueError):
    """A request whose content is wrong; ``errors`` names each bad field (``loc``, ``msg``,
    ``type``), at most ``MAX_FIELD_ERRORS`` of them."""

    status_code = 422
    code = "invalid_request"
    meaning = "Malformed JSON, a missing or invalid field, or a value over a limit."

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors

    @classmethod
    def for_field(cls, field: str, problem: str) -> "InvalidRequest":
        """A well-formed request whose value breaks a configured limit."""
        error = {"loc": [field], "msg": problem, "type": "value_error"}
        return cls(f"Invalid request: {field}: {problem}", [error])

    @classmethod
    def for_errors(cls, errors: list[dict[str, Any]]) -> "InvalidRequest":
        """Field errors as pydantic reports them (``loc`` starting with where: body, query)."""
        shown = errors[:MAX_FIELD_ERRORS]
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in shown
        )
        if len(errors) > len(shown):
            summary += f"; and {len(errors) - len(shown)} more"
        return cls(f"Invalid request: {summary}", shown)

    def body(self) -> dict[str, Any]:
        return {**super().body(), "errors": self.errors}


class MessageTooLarge(LogQueueError):
    status_code = 413
    code = "message_too_large"
    meaning = "A message is longer than LOGQUEUE_MAX_MESSAGE_BYTES."

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"Message is {size} bytes; the limit is {limit} bytes")


class BatchTooLarge(LogQueueError):
    status_code = 413
    code = "batch_too_large"
    meaning = "A batch holds more than LOGQUEUE_MAX_BATCH messages."

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"Batch has {count} messages; the limit is {limit}")


class RequestTooLarge(LogQueueError):
    status_code = 413
    code = "request_too_large"
    meaning = "The request body is larger than LOGQUEUE_MAX_REQUEST_BYTES."
    # The rest of the body is not read, so the connection cannot be reused.
    headers = MappingProxyType({"Connection": "close"})

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than the limit of {limit} bytes")


class HeadersTooLarge(LogQueueError):
    """Answered by the HTTP protocol itself, before any route runs (app/http_protocol.py)."""

    status_code = 431
    code = "headers_too_large"
    meaning = "The request line and headers are longer than LOGQUEUE_MAX_HEADER_BYTES."
    headers = MappingProxyType({"Connection": "close"})

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request line and headers are longer than the limit of {limit} bytes")


class TooManyStreams(LogQueueError):
    """Each open stream holds a connection and a task, so their number is capped."""

    status_code = 429
    code = "too_many_streams"
    meaning = "Too many event streams are open (LOGQUEUE_MAX_STREAMS); retry shortly."

    def __init__(self, limit: int) -> None:
        super().__init__(f"Too many streams are open (limit {limit}); retry shortly")


class SequenceConflict(LogQueueError):
    """An idempotent produce whose sequence is neither the next one nor a repeat of the last."""

    status_code = 409
    code = "sequence_conflict"
    meaning = "An idempotent produce's sequence is neither the next one nor the last again."

    def __init__(self, producer_id: int, sequence: int, expected: int) -> None:
        self.expected = expected
        super().__init__(
            f"Sequence {sequence} is out of order for producer {producer_id}; "
            f"expected {expected} (or {expected - 1} to repeat the last produce)"
            if expected > 0
            else f"Sequence {sequence} is out of order for producer {producer_id}; expected 0"
        )

    def body(self) -> dict[str, Any]:
        """``expected`` too: a pipelining client tells from it whether the request was
        stored before (a lost answer) or must wait for its predecessors."""
        return {**super().body(), "expected": self.expected}


class TooManyWaiters(LogQueueError):
    """Long polls hold memory and a request slot each, so their number is capped."""

    status_code = 429
    code = "too_many_waiters"
    meaning = (
        "Too many long polls are waiting (LOGQUEUE_MAX_WAITERS, or "
        "LOGQUEUE_MAX_WAITERS_PER_CONSUMER on one consumer id); retry shortly."
    )

    def __init__(self, limit: int, consumer_id: int | None = None) -> None:
        where = "" if consumer_id is None else f" on consumer {consumer_id}"
        super().__init__(f"Too many long polls are waiting{where} (limit {limit}); retry shortly")


class StorageUnavailable(LogQueueError):
    """The database cannot be reached right now; the request is safe to retry later."""

    status_code = 503
    code = "storage_unavailable"
    meaning = "The database is unreachable or restarting; retry after Retry-After seconds."
    headers = MappingProxyType({"Retry-After": "1"})

    def __init__(self, detail: str) -> None:
        super().__init__(f"Database unavailable, retry shortly ({detail})")


class NotFound(LogQueueError):
    """A path the server does not serve."""

    status_code = 404
    code = "not_found"
    meaning = "No such path."

    def __init__(self, detail: str = "Not Found") -> None:
        super().__init__(detail)


class MethodNotAllowed(LogQueueError):
    """The path exists but not with this method; ``Allow`` lists the methods it takes."""

    status_code = 405
    code = "method_not_allowed"
    meaning = "The path does not take this method; the Allow header lists those it does."

    def __init__(self, allowed: list[str], detail: str = "Method Not Allowed") -> None:
        super().__init__(detail)
        self.headers = {"Allow": ", ".join(allowed)}


class GroupNotFound(LogQueueError):
    status_code = 404
    code = "group_not_found"
    meaning = "The consumer group does not exist on that topic."

    def __init__(self, topic: str, group: str) -> None:
        super().__init__(f"Group '{group}' does not exist on topic '{topic}'")


class LeaseNotFound(LogQueueError):
    """A lease id this group never handed out (another group's, or not a lease id)."""

    status_code = 404
    code = "lease_not_found"
    meaning = "The lease id is not one of this group's (another group's, or malformed)."

    def __init__(self, group: str) -> None:
        super().__init__(f"The lease id is not a lease of group '{group}'")


class LeaseExpired(LogQueueError):
    """The lease is a fencing token: once expired, its messages may be someone else's."""

    status_code = 409
    code = "lease_expired"
    meaning = "The lease has expired (or holds nothing any more); nothing was changed."

    def __init__(self) -> None:
        super().__init__(
            "The lease has expired or holds nothing any more; its messages may have been "
            "delivered again, so nothing was changed"
        )


class OffsetsNotInLease(LogQueueError):
    status_code = 409
    code = "offsets_not_in_lease"
    meaning = "Some of the offsets are not held by the lease; nothing was changed."

    def __init__(self) -> None:
        super().__init__("Some offsets are not held by this lease; nothing was changed")


class DeadLetterLoop(LogQueueError):
    """Dead letters appended to the group's own topic would be delivered to it again."""

    status_code = 409
    code = "dead_letter_loop"
    meaning = "A group's dead-letter topic must be another topic than its own."

    def __init__(self, topic: str) -> None:
        super().__init__(f"The dead-letter topic must be another topic than '{topic}'")


def error_classes() -> list[type[LogQueueError]]:
    """Every error a client can be answered with, in definition order: the README table and
    the SDK's tests are checked against this list, so a new code cannot be forgotten."""
    found = list(LogQueueError.__subclasses__())
    for cls in found:
        found.extend(c for c in cls.__subclasses__() if c not in found)
    return found
