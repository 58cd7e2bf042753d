"""One exception tree for every way a call can fail.

Each error carries the broker's own sentence (``message``), the HTTP status it came with
(``status_code``) and the broker's machine code (``code``, e.g. ``"topic_not_found"``; both
``None`` when no response was received or the client refused the call before sending it),
so callers can branch on the class or the code and still show the real reason.
"""

from typing import Any


class LogQueueError(Exception):
    """Base of every error the SDK raises."""

    def __init__(
        self, message: str, status_code: int | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code


class TopicNotFound(LogQueueError):
    """The topic does not exist (consumers cannot create topics; producers and admins can)."""


class TopicExists(LogQueueError):
    """``create_topic`` was asked for a name that is taken."""


class NotRegistered(LogQueueError):
    """The producer or consumer id is unknown to the broker, or registered for another topic."""


class AccessDenied(LogQueueError):
    """The broker has access control on: the API key is missing or unknown (401), or it may
    not do this (403: an admin action, or an id registered with another key)."""


class InvalidRequest(LogQueueError):
    """The broker refused the request's content (empty, too large, malformed, not UTF-8).

    ``errors`` holds the broker's per-field details for a 422 (``loc``, ``msg``, ``type``).
    """

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        *,
        code: str | None = None,
    ) -> None:
        super().__init__(message, status_code, code=code)
        self.errors = errors or []


class SequenceConflict(InvalidRequest):
    """A numbered produce was neither the producer id's next sequence nor a repeat of its last
    (409 ``sequence_conflict``); ``expected`` is the sequence the broker expected."""

    def __init__(
        self, message: str, status_code: int | None = None, *, expected: int | None = None
    ) -> None:
        super().__init__(message, status_code, code="sequence_conflict")
        self.expected = expected


class BrokerUnavailable(LogQueueError):
    """No usable answer after the retries the call allowed: refused, timed out or 5xx."""


class Stopped(LogQueueError):
    """The producer or consumer was stopped; it accepts no more calls."""


class GroupNotFound(LogQueueError):
    """The consumer group does not exist on that topic (create it first)."""


class LeaseExpired(LogQueueError):
    """The lease expired before this call (or holds nothing any more): its messages may
    already be another member's, so the call changed nothing."""
