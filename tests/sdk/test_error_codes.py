"""The SDK picks its exception class by the broker's error code alone, for every code the
broker can send: the list comes from the server's own error classes, so a new code fails
here until the SDK (and this table) know it."""

import orjson
import pytest

from app.errors import LogQueueError as ServerError
from app.errors import error_classes
from logqueue_sdk import (
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
    _base,
)

EXPECTED: dict[str, type[LogQueueError]] = {
    "internal_error": BrokerUnavailable,
    "topic_not_found": TopicNotFound,
    "topic_exists": TopicExists,
    "producer_not_found": NotRegistered,
    "consumer_not_found": NotRegistered,
    "wrong_topic": NotRegistered,
    "unauthenticated": AccessDenied,
    "forbidden": AccessDenied,
    "invalid_request": InvalidRequest,
    "message_too_large": InvalidRequest,
    "batch_too_large": InvalidRequest,
    "request_too_large": InvalidRequest,
    "headers_too_large": InvalidRequest,
    "sequence_conflict": SequenceConflict,
    "too_many_waiters": InvalidRequest,
    "too_many_streams": InvalidRequest,
    "storage_unavailable": BrokerUnavailable,
    "not_found": InvalidRequest,
    "method_not_allowed": InvalidRequest,
    "group_not_found": GroupNotFound,
    "lease_not_found": InvalidRequest,
    "lease_expired": LeaseExpired,
    "offsets_not_in_lease": InvalidRequest,
    "dead_letter_loop": InvalidRequest,
}


def test_every_server_code_has_an_expected_class() -> None:
    assert sorted(EXPECTED) == sorted(error.code for error in error_classes())


@pytest.mark.parametrize("error", error_classes(), ids=lambda error: error.code)
def test_the_code_alone_picks_the_class(error: type[ServerError]) -> None:
    # A sentence that names something else: the words must not matter.
    body = {"status": "failure", "error": error.code, "message": "Topic 'x' does not exist"}
    with pytest.raises(LogQueueError) as caught:
        _base.interpret(error.status_code, orjson.dumps(body))
    assert type(caught.value) is EXPECTED[error.code]
    assert (caught.value.code, caught.value.status_code) == (error.code, error.status_code)


def test_an_unknown_code_falls_back_on_the_status() -> None:
    body = {"status": "failure", "error": "from_a_newer_broker", "message": "?"}
    with pytest.raises(InvalidRequest):
        _base.interpret(418, orjson.dumps(body))
    with pytest.raises(BrokerUnavailable):
        _base.interpret(507, orjson.dumps(body))
