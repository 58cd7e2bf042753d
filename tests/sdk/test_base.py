"""The shared, I/O-free rules both flavours run on: URLs, retries, errors, answer shapes."""

from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from logqueue_sdk import (
    BrokerUnavailable,
    InvalidRequest,
    LogQueueError,
    Message,
    NotRegistered,
    RetryPolicy,
    SequenceConflict,
    TopicExists,
    TopicNotFound,
    _base,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("localhost:8000", "http://localhost:8000"),
        ("127.0.0.1:8000/", "http://127.0.0.1:8000"),
        (" http://queue.example:80 ", "http://queue.example:80"),
        ("https://queue.example/base/", "https://queue.example/base"),
    ],
)
def test_broker_url_gets_a_scheme_and_loses_trailing_slash(given: str, expected: str) -> None:
    assert _base.normalise_broker(given) == expected


def test_empty_broker_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        _base.normalise_broker("  ")


def test_bytes_must_be_utf8() -> None:
    assert _base.message_text("DEBUG: é".encode()) == "DEBUG: é"
    assert _base.message_text("as is") == "as is"
    with pytest.raises(InvalidRequest, match="not valid UTF-8") as caught:
        _base.message_text(b"\xff\xfe")
    assert caught.value.status_code is None


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(retries=10, backoff=0.1, max_backoff=1.0)
    assert policy.delay(0, jitter=0.0) == pytest.approx(0.05)
    assert policy.delay(0, jitter=0.999) == pytest.approx(0.1, rel=1e-3)
    assert policy.delay(2, jitter=0.0) == pytest.approx(0.2)
    assert policy.delay(9, jitter=0.999) == pytest.approx(1.0, rel=1e-3)


SAFE = _base.status_call()
PRODUCE = _base.produce_call("t", 1, "m")


def test_safe_calls_retry_any_transport_error_until_the_budget_is_spent() -> None:
    policy = RetryPolicy(retries=2)
    timeout = httpx.ReadTimeout("slow")
    assert _base.retry_after_error(policy, SAFE, 0, timeout, jitter=0.0) == pytest.approx(0.05)
    assert _base.retry_after_error(policy, SAFE, 1, timeout, jitter=0.0) is not None
    assert _base.retry_after_error(policy, SAFE, 2, timeout, jitter=0.0) is None


def test_state_changing_calls_retry_only_what_never_left() -> None:
    policy = RetryPolicy(retries=3)
    unsent_errors = (httpx.ConnectError("x"), httpx.ConnectTimeout("t"), httpx.PoolTimeout("p"))
    for unsent in unsent_errors:
        assert _base.retry_after_error(policy, PRODUCE, 0, unsent) is not None
    sent_errors = (httpx.ReadTimeout("t"), httpx.RemoteProtocolError("x"), httpx.ReadError("r"))
    for maybe_sent in sent_errors:
        assert _base.retry_after_error(policy, PRODUCE, 0, maybe_sent) is None
    for call in (
        _base.consume_call("t", 1),
        _base.register_call("consumer", "t"),
        _base.create_topic_call("t"),
    ):
        assert _base.retry_after_error(policy, call, 0, httpx.ReadTimeout("t")) is None


def test_numbered_produces_are_retried_like_reads() -> None:
    policy = RetryPolicy(retries=3)
    sequenced = _base.numbered(PRODUCE, 4)
    assert sequenced.json == {"topic": "t", "producer_id": 1, "message": "m", "sequence": 4}
    assert PRODUCE.json is not None and "sequence" not in PRODUCE.json
    for lost in (httpx.ReadTimeout("t"), httpx.RemoteProtocolError("x"), httpx.ConnectError("c")):
        assert _base.retry_after_error(policy, sequenced, 0, lost) is not None
    assert _base.retry_after_status(policy, sequenced, 0, 503, "1") == 1.0
    assert _base.retry_after_status(policy, sequenced, 0, 413, None) is None
    assert _base.retry_after_status(policy, sequenced, 3, 503, "1") is None


def test_only_5xx_to_safe_calls_is_retried_and_retry_after_wins() -> None:
    policy = RetryPolicy(retries=3, max_retry_after=10.0)
    assert _base.retry_after_status(policy, SAFE, 0, 503, "2") == 2.0
    assert _base.retry_after_status(policy, SAFE, 0, 503, "3600") == 10.0
    assert _base.retry_after_status(policy, SAFE, 0, 500, None, jitter=0.0) == pytest.approx(0.05)
    assert _base.retry_after_status(policy, SAFE, 3, 503, "1") is None
    assert _base.retry_after_status(policy, SAFE, 0, 404, None) is None
    assert _base.retry_after_status(policy, SAFE, 0, 200, None) is None
    assert _base.retry_after_status(policy, PRODUCE, 0, 503, "1") is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = "Thu, 01 Jan 2026 12:00:05 GMT"
    assert _base.parse_retry_after(later, now=now) == 5.0
    assert _base.parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert _base.parse_retry_after("1.5") == 1.5
    assert _base.parse_retry_after("soon") is None
    assert _base.parse_retry_after(None) is None


def test_unavailable_says_whether_the_call_may_have_happened() -> None:
    refused = _base.unavailable("http://b", PRODUCE, httpx.ConnectError("refused"))
    assert "Cannot reach the broker at http://b" in refused.message
    lost = _base.unavailable("http://b", PRODUCE, httpx.ReadTimeout("timed out"))
    assert "may or may not have taken effect" in lost.message
    read_again = _base.unavailable("http://b", SAFE, httpx.ReadTimeout("t"))
    assert "may or may not" not in read_again.message


@pytest.mark.parametrize(
    ("status_code", "code", "message", "error_class"),
    [
        (404, "topic_not_found", "Topic 'x' does not exist", TopicNotFound),
        (404, "producer_not_found", "Producer 7 is not registered", NotRegistered),
        (404, "consumer_not_found", "Consumer 7 is not registered", NotRegistered),
        (404, "not_found", "Not Found", InvalidRequest),
        (403, "wrong_topic", "Consumer 7 is not registered for topic 'x'", NotRegistered),
        (409, "topic_exists", "Topic 'x' already exists", TopicExists),
        (409, "sequence_conflict", "Sequence 4 is out of order for producer 7", SequenceConflict),
        (413, "message_too_large", "Message is 9 bytes; the limit is 8 bytes", InvalidRequest),
        (422, "invalid_request", "Invalid request: message: Field required", InvalidRequest),
        (400, None, "Bad", InvalidRequest),
        (500, "internal_error", "Internal server error", BrokerUnavailable),
        (503, None, "Service Unavailable", BrokerUnavailable),
    ],
)
def test_failures_map_to_one_exception_tree(
    status_code: int, code: str | None, message: str, error_class: type[LogQueueError]
) -> None:
    body = orjson.dumps({"status": "failure", "error": code, "message": message})
    with pytest.raises(error_class) as caught:
        _base.interpret(status_code, body)
    assert type(caught.value) is error_class
    assert (caught.value.message, caught.value.status_code) == (message, status_code)
    assert caught.value.code == code


def test_a_sequence_conflict_carries_the_expected_sequence() -> None:
    body = b'{"status":"failure","error":"sequence_conflict","message":"...","expected":3}'
    with pytest.raises(SequenceConflict) as caught:
        _base.interpret(409, body)
    assert caught.value.expected == 3 and isinstance(caught.value, InvalidRequest)


def test_validation_details_travel_with_the_error() -> None:
    body = (
        b'{"status":"failure","error":"invalid_request",'
        b'"message":"Invalid request: message: Field required",'
        b'"errors":[{"loc":["body","message"],"msg":"Field required","type":"missing"}]}'
    )
    with pytest.raises(InvalidRequest) as caught:
        _base.interpret(422, body)
    assert caught.value.errors == [
        {"loc": ["body", "message"], "msg": "Field required", "type": "missing"}
    ]


def test_answers_that_are_not_json() -> None:
    with pytest.raises(BrokerUnavailable, match="Bad Gateway") as caught:
        _base.interpret(502, b"<html>Bad Gateway</html>")
    assert caught.value.status_code == 502
    with pytest.raises(LogQueueError, match="not a LogQueue broker"):
        _base.interpret(200, b"<html>hello</html>")
    assert _base.interpret(200, b'{"status": "success"}') == {"status": "success"}


def test_consume_answers_in_both_shapes() -> None:
    single = {
        "status": "success",
        "message": "m0",
        "offset": 0,
        "produced_at": "2026-11-25T13:40:00.123456Z",
    }
    stamp = datetime(2026, 11, 25, 13, 40, 0, 123456, tzinfo=UTC)
    assert _base.parse_consumed("t", single) == [Message("t", 0, "m0", stamp)]
    nothing = {"status": "failure", "message": "no new messages"}
    assert _base.parse_consumed("t", nothing) == []
    batch = {
        "status": "success",
        "messages": [
            {"offset": 4, "message": "a", "produced_at": "2026-11-25T13:40:00.123456+00:00"},
            {"offset": 5, "message": "b", "produced_at": "2026-11-25T13:40:00.123456"},
        ],
    }
    assert _base.parse_consumed("t", batch) == [
        Message("t", 4, "a", stamp),
        Message("t", 5, "b", stamp),
    ]
    assert _base.parse_consumed("t", {"status": "success", "messages": []}) == []


def test_inbox_asks_for_batches_and_lets_the_broker_wait() -> None:
    inbox = _base.Inbox(batch_size=50)
    first = inbox.fetch_call("t", 9, wait=0.0)
    assert first.params == {"topic": "t", "consumer_id": 9, "max_messages": 50, "wait_ms": 0}
    answer = {"status": "success", "messages": [{"offset": 0, "message": "a"}]}
    assert inbox.accept("t", answer) == 1
    polled = inbox.fetch_call("t", 9, wait=0.4)
    assert polled.params is not None and polled.params["wait_ms"] == 400
    assert polled.wait == 0.4


def test_inbox_hands_over_in_order_per_topic() -> None:
    inbox = _base.Inbox(batch_size=10)
    rows = [{"offset": i, "message": f"m{i}"} for i in range(3)]
    inbox.accept("a", {"messages": rows})
    inbox.accept("b", {"messages": rows[:1]})
    assert inbox.held("a") == 3
    assert [inbox.take("a"), inbox.take("a")] == [Message("a", 0, "m0"), Message("a", 1, "m1")]
    assert inbox.take_any() == Message("a", 2, "m2")
    assert inbox.take_any() == Message("b", 0, "m0")
    assert inbox.take_any() is None
    assert inbox.take("missing") is None


def test_long_poll_wait_is_capped() -> None:
    call = _base.consume_call("t", 1, max_messages=5, wait=timedelta(hours=1).total_seconds())
    assert call.params is not None and call.params["wait_ms"] == _base.MAX_WAIT_MS


def test_rotation_waits_only_after_a_whole_empty_round() -> None:
    rotation = _base.Rotation(max_wait=0.3)
    topics = ["a", "b"]
    assert [rotation.next_topic(topics) for _ in range(3)] == ["a", "b", "a"]
    rotation.record(0)
    assert rotation.next_wait(len(topics)) == 0.0
    rotation.record(0)
    waits = [rotation.next_wait(len(topics)) for _ in range(4)]
    assert waits == [_base.FIRST_IDLE_WAIT, 0.1, 0.2, 0.3]
    rotation.record(2)
    assert rotation.next_wait(len(topics)) == 0.0


def test_options_are_checked_up_front() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        _base.Inbox(batch_size=0)
    with pytest.raises(ValueError, match="max_wait"):
        _base.require_positive(0, "max_wait")
    with pytest.raises(ValueError, match="retries"):
        _base.as_policy(-1)
    assert _base.as_policy(2) == RetryPolicy(retries=2)


def _sequences(sequencer: _base.Sequencer, producer_id: int) -> tuple[int, str] | None:
    call = sequencer.first(producer_id)
    if call is None:
        return None
    assert call.json is not None and call.retry is _base.Retry.SAFE
    return call.json["sequence"], call.json["message"]


def test_sequencer_numbers_per_producer_and_advances_only_on_confirmation() -> None:
    sequencer = _base.Sequencer()
    assert sequencer.first(1) is None
    sequencer.keep(1, _base.produce_call("t", 1, "a"))
    sequencer.keep(2, _base.produce_call("u", 2, "x"))
    assert _sequences(sequencer, 1) == (0, "a")
    assert _sequences(sequencer, 1) == (0, "a"), "a retry repeats the same number and body"
    sequencer.confirmed(1)
    sequencer.keep(1, _base.produce_call("t", 1, "b"))
    assert _sequences(sequencer, 1) == (1, "b")
    assert _sequences(sequencer, 2) == (0, "x"), "each producer id counts on its own"


def test_sequencer_keeps_unconfirmed_calls_in_order() -> None:
    sequencer = _base.Sequencer()
    first, second = _base.produce_call("t", 1, "a"), _base.produce_call("t", 1, "b")
    sequencer.keep(1, first)
    sequencer.keep(1, second)  # ``first`` got no answer: it stays ahead of ``second``
    assert sequencer.kept(1) == 2
    assert sequencer.holding() == [1]
    assert _sequences(sequencer, 1) == (0, "a")
    assert sequencer.confirmed(1) is first
    assert _sequences(sequencer, 1) == (1, "b")
    assert sequencer.confirmed(1) is second
    assert sequencer.holding() == []
    assert sequencer.kept() == 0


def test_sequencer_reuses_the_number_of_a_refused_call() -> None:
    sequencer = _base.Sequencer()
    too_big, fine = _base.produce_call("t", 1, "huge"), _base.produce_call("t", 1, "ok")
    sequencer.keep(1, too_big)
    sequencer.keep(1, fine)
    assert sequencer.refused(1) is too_big
    assert _sequences(sequencer, 1) == (0, "ok")
    batch = _base.produce_batch_call("t", 1, ["c", "d"])
    sequencer.confirmed(1)
    sequencer.keep(1, batch)
    numbered = sequencer.first(1)
    assert numbered is not None and numbered.json is not None
    assert (numbered.json["sequence"], numbered.json["messages"]) == (1, ["c", "d"])
