"""Numbered sends against a real server: a repeat, a lost answer or a send made while the
broker was down all end with the message stored exactly once, in order."""

from pathlib import Path

import pytest

from logqueue_sdk import (
    AsyncProducer,
    Client,
    Consumer,
    InvalidRequest,
    Producer,
    RetryPolicy,
    _base,
)
from tests.live_server import free_port, start_server
from tests.sdk.lossy_proxy import LossyProxy

FAST = RetryPolicy(retries=2, backoff=0.01, max_backoff=0.02)
PATIENT = RetryPolicy(retries=20, backoff=0.05, max_backoff=0.2)


def read_all(broker: str, topic: str) -> list[tuple[int, str]]:
    with Consumer(broker, [topic]) as consumer:
        messages = iter(lambda: consumer.dequeue(topic), None)
        return [(message.offset, message.body) for message in messages]


def test_the_same_numbered_call_twice_stores_once(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer, Client(broker) as client:
        producer_id = producer.topic_id_map[topic]
        call = _base.numbered(_base.produce_call(topic, producer_id, "once"), 0)
        batch = _base.numbered(_base.produce_batch_call(topic, producer_id, ["b", "c"]), 1)
        assert client._request(call) == client._request(call) == {"status": "success", "offset": 0}
        assert client._request(batch)["offsets"] == client._request(batch)["offsets"] == [1, 2]
    assert read_all(broker, topic) == [(0, "once"), (1, "b"), (2, "c")]


def test_a_refused_send_does_not_use_up_its_number(broker: str, topic: str) -> None:
    """Had the number advanced past the refused send, the next one would be out of order."""
    with Producer(broker, [topic]) as producer:
        assert producer.send(topic, "first") is True
        with pytest.raises(InvalidRequest) as refused:
            producer.send(topic, "nul \x00 inside")
        assert refused.value.status_code == 422
        assert producer.send(topic, "second") is True
        assert producer.send_batch(topic, ["third", "fourth"]) is True
    assert read_all(broker, topic) == [(0, "first"), (1, "second"), (2, "third"), (3, "fourth")]


def test_a_produce_stored_without_an_answer_is_not_stored_again(broker: str, topic: str) -> None:
    with LossyProxy(broker, lose=1) as proxy:
        with Producer(proxy.url, [topic], timeout=1.0, retries=PATIENT) as producer:
            assert producer.send(topic, "answer lost") is True
            assert producer.send(topic, "next") is True
        assert proxy.lost[0].json() == {"status": "success", "offset": 0}
        numbers = [(body["sequence"], body["message"]) for body in proxy.produces]
        assert numbers == [(0, "answer lost"), (0, "answer lost"), (1, "next")]
    assert read_all(broker, topic) == [(0, "answer lost"), (1, "next")]


async def test_a_batch_stored_without_an_answer_is_not_stored_again_async(
    broker: str, topic: str
) -> None:
    with LossyProxy(broker, lose=2) as proxy:
        async with AsyncProducer(proxy.url, [topic], timeout=1.0, retries=PATIENT) as producer:
            assert await producer.send_batch(topic, ["a", "b"]) is True
        assert [answer.json()["offsets"] for answer in proxy.lost] == [[0, 1], [0, 1]]
        assert len(proxy.produces) == 3
    assert read_all(broker, topic) == [(0, "a"), (1, "b")]


def test_a_send_that_failed_while_the_broker_was_down_is_delivered_once(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    server = start_server(database_url, port=port, log_path=tmp_path / "first.log")
    topic = f"down-{port}"
    try:
        with Producer(server.url, [topic], retries=FAST) as producer:
            assert producer.send(topic, "before") is True
            server.stop()
            assert producer.send(topic, "while down") is False
            assert not producer.can_send()
            server = start_server(database_url, port=port, log_path=tmp_path / "second.log")
            assert producer.send(topic, "after") is True
            assert producer.can_send()
        assert read_all(server.url, topic) == [(0, "before"), (1, "while down"), (2, "after")]
    finally:
        server.stop()
