# Generated from tests/sdk/test_pipelining_async.py by scripts/unasync.py; edit that file.
"""The pipelining producer against a real server, written once for both flavours:
``test_pipelining_async.py`` is the source, ``scripts/unasync.py`` generates
``test_pipelining_sync.py``. Many threads or tasks on one producer are in
``test_pipelining_concurrency.py``.

The lossy relay in front of the server shows each request the producer made.
"""

import pytest

from logqueue_sdk import Consumer, InvalidRequest, Producer, RetryPolicy
from tests.sdk.lossy_proxy import LossyProxy

PATIENT = RetryPolicy(retries=20, backoff=0.05, max_backoff=0.2)
LONG = 60.0
"""A linger no test waits out: batches leave when full, or when flush() or stop() hurry them."""


def _stored(broker: str, topic: str) -> list[tuple[int, str]]:
    with Consumer(broker, [topic]) as consumer:
        found = []
        while (message := consumer.dequeue(topic)) is not None:
            found.append((message.offset, message.body))
        return found


def _requests(proxy: LossyProxy) -> list[tuple[int, list[str]]]:
    """(sequence, messages) of each produce the relay saw, in order."""
    return [
        (body["sequence"], body.get("messages", [body.get("message")])) for body in proxy.produces
    ]


def test_produce_returns_futures_and_flush_waits_for_them(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer:
        futures = [producer.produce(topic, f"m{i}") for i in range(300)]
        assert producer.flush() is True
        assert all(future.done() and future.result() is True for future in futures)
    assert _stored(broker, topic) == [(i, f"m{i}") for i in range(300)]


def test_send_returns_once_committed(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer:
        assert producer.send(topic, "now") is True
        assert _stored(broker, topic) == [(0, "now")]


def test_queued_messages_leave_in_full_batches(broker: str, topic: str) -> None:
    with LossyProxy(broker, lose=0) as proxy:
        with Producer(proxy.url, [topic], linger=LONG, max_batch=100) as producer:
            futures = [producer.produce(topic, f"m{i}") for i in range(250)]
            assert producer.flush() is True
        assert all(future.result() is True for future in futures)
        requests = _requests(proxy)
    batches = sorted(dict(requests).items())  # several go at once: any order on the wire
    assert [(sequence, len(messages)) for sequence, messages in batches] == [
        (0, 100),
        (1, 100),
        (2, 50),
    ]
    assert [m for _, messages in batches for m in messages] == [f"m{i}" for i in range(250)]
    assert all(messages == dict(batches)[sequence] for sequence, messages in requests)
    assert _stored(broker, topic) == [(i, f"m{i}") for i in range(250)]


def test_a_batch_without_an_answer_is_retried_with_its_sequence(broker: str, topic: str) -> None:
    with LossyProxy(broker, lose=1) as proxy:
        with Producer(
            proxy.url, [topic], timeout=1.0, retries=PATIENT, linger=LONG, max_batch=20
        ) as producer:
            futures = [producer.produce(topic, f"m{i}") for i in range(40)]
            assert producer.flush() is True
        assert all(future.result() is True for future in futures)
        requests = _requests(proxy)
    batches = {0: [f"m{i}" for i in range(20)], 1: [f"m{i}" for i in range(20, 40)]}
    assert all(messages == batches[sequence] for sequence, messages in requests), (
        "a sequence always carries the same batch"
    )
    unanswered = requests[0][0]  # the first to reach the relay lost its answer
    assert [sequence for sequence, _ in requests].count(unanswered) >= 2, "sent again"
    assert _stored(broker, topic) == [(i, f"m{i}") for i in range(40)]


def test_several_batches_are_on_the_wire_at_once_and_stored_in_order(
    broker: str, topic: str
) -> None:
    with LossyProxy(broker, lose=0, together=2) as proxy:
        with Producer(proxy.url, [topic], linger=LONG, max_batch=10) as producer:
            futures = [producer.produce(topic, f"m{i}") for i in range(100)]
            assert producer.flush() is True
        assert all(future.result() is True for future in futures)
        assert proxy.most_at_once >= 2, "a batch went beside another"
        requests = _requests(proxy)
    batches = dict(requests)
    assert all(messages == batches[sequence] for sequence, messages in requests)
    assert sorted(batches) == list(range(10)), "one sequence a batch, in produce() order"
    assert _stored(broker, topic) == [(i, f"m{i}") for i in range(100)]


def test_batches_that_lost_their_answers_beside_others_are_stored_once_in_order(
    broker: str, topic: str
) -> None:
    """Answers lost to batches on the wire together: the retries (same sequences) and the
    later batches' answers settle each exactly once."""
    with LossyProxy(broker, lose=3, together=2) as proxy:
        with Producer(
            proxy.url, [topic], timeout=1.0, retries=PATIENT, linger=LONG, max_batch=10
        ) as producer:
            futures = [producer.produce(topic, f"m{i}") for i in range(60)]
            assert producer.flush() is True
        assert all(future.result() is True for future in futures)
        assert len(proxy.lost) == 3
        requests = _requests(proxy)
    batches = dict(requests)
    assert all(messages == batches[sequence] for sequence, messages in requests)
    assert _stored(broker, topic) == [(i, f"m{i}") for i in range(60)]


def test_a_refusal_beside_later_batches_moves_them_to_a_new_producer_id(
    broker: str, topic: str
) -> None:
    """The later batches' sequences are not used again for other messages: one of them
    could still reach the broker late, and would then be stored twice (see ``_drain``).
    Whether a later batch was on the wire beside the refused one depends on how fast the
    messages were queued (a thread in the threaded flavour), so the relay's log decides
    which of the two must have happened."""
    texts = [f"m{i}" for i in range(40)]
    texts[5] = ""
    with LossyProxy(broker, lose=0) as proxy:
        with Producer(proxy.url, [topic], linger=LONG, max_batch=10) as producer:
            first_id = producer.topic_id_map[topic]
            futures = [producer.produce(topic, text) for text in texts]
            assert producer.flush() is True
            moved_to = producer.topic_id_map[topic]
        with pytest.raises(InvalidRequest):
            futures[5].result()
        assert all(future.result() is True for i, future in enumerate(futures) if i != 5)
        first = [body for body in proxy.produces if body["producer_id"] == first_id]
    refused = min(body["sequence"] for body in first if "" in body.get("messages", []))
    beside = [body for body in first if body["sequence"] > refused]
    if beside:
        assert moved_to != first_id, "later batches were on the wire: a new id"
    else:
        assert moved_to == first_id, "nothing after it was sent: its number is reused"
    assert _stored(broker, topic) == list(enumerate(text for text in texts if text))


def test_a_refused_message_fails_alone(broker: str, topic: str) -> None:
    with LossyProxy(broker, lose=0) as proxy:
        with Producer(proxy.url, [topic], linger=LONG, max_batch=3) as producer:
            first = producer.produce(topic, "a")
            empty = producer.produce(topic, "")
            last = producer.produce(topic, "b")
            assert producer.flush() is True
        assert first.result() is True and last.result() is True
        with pytest.raises(InvalidRequest) as refused:
            empty.result()
        assert refused.value.status_code == 422
        assert _requests(proxy)[0] == (0, ["a", "", "b"]), "the three went as one batch"
    assert _stored(broker, topic) == [(0, "a"), (1, "b")]


def test_stop_sends_what_is_queued(broker: str, topic: str) -> None:
    producer = Producer(broker, [topic], linger=LONG)
    futures = [producer.produce(topic, f"m{i}") for i in range(50)]
    producer.stop()
    assert all(future.result() is True for future in futures)
    late = producer.produce(topic, "late")
    assert late.result() is False
    assert _stored(broker, topic) == [(i, f"m{i}") for i in range(50)]


def test_options_are_checked(broker: str) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Producer(broker, max_batch=0)
    with pytest.raises(ValueError, match="max_queued"):
        Producer(broker, max_queued=0)
    with pytest.raises(ValueError, match="linger"):
        Producer(broker, linger=-1)
