# Generated from tests/sdk/test_async.py by scripts/unasync.py; edit that file.
"""Client, producer and consumer against a real server, written once for both flavours:
``test_async.py`` is the source, ``scripts/unasync.py`` generates ``test_sync.py``. What only
one flavour does (threads, tasks, when registration happens) is in ``test_lifecycle.py``.
"""

from datetime import UTC, datetime, timedelta

import pytest

from logqueue_sdk import (
    BrokerUnavailable,
    Client,
    Consumer,
    InvalidRequest,
    NotRegistered,
    Producer,
    Stopped,
    TopicExists,
    TopicNotFound,
)
from tests.live_server import free_port
from tests.sdk.helpers import plain, unique


def _no_scheme(url: str) -> str:
    return url.removeprefix("http://")


def _create(broker: str, topic: str) -> None:
    with Client(broker) as client:
        client.create_topic(topic)


def test_client_status_and_topics(broker: str, topic: str) -> None:
    with Client(_no_scheme(broker)) as client:
        status = client.status()
        assert status.healthy and status.database == "ok" and status.version
        assert client.create_topic(topic) is True
        later = unique()
        assert client.create_topic(later) is True
        topics = client.list_topics()
        assert topics.index(topic) < topics.index(later)
        with pytest.raises(TopicExists) as exists:
            client.create_topic(topic)
        assert (exists.value.status_code, exists.value.message) == (
            409,
            f"Topic '{topic}' already exists",
        )
        assert client.create_topic(topic, exist_ok=True) is False
        assert (client.list_topics()).count(topic) == 1


def test_client_failures(broker: str) -> None:
    with Client(broker) as client:
        with pytest.raises(InvalidRequest) as caught:
            client.create_topic("")
        assert caught.value.status_code == 422
    with Client(f"127.0.0.1:{free_port()}", retries=2) as nowhere:
        with pytest.raises(BrokerUnavailable, match="Cannot reach the broker") as unreachable:
            nowhere.status()
        assert unreachable.value.status_code is None


def test_client_refuses_bad_topic_names(broker: str) -> None:
    with Client(broker) as client, pytest.raises(InvalidRequest) as caught:
        client.create_topic("no spaces allowed")
    assert caught.value.status_code == 422
    assert [e["loc"] for e in caught.value.errors] == [["body", "topic_name"]]


def test_producer_registers_and_sends(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer:
        first_id = producer.topic_id_map[topic]
        assert producer.can_send()
        assert producer.send(topic, "text") is True
        assert producer.send(topic, "é bytes".encode()) is True
        new_id = producer.register(topic)
        assert new_id != first_id and producer.topic_id_map[topic] == new_id
        assert producer.send(topic, "with the new id") is True
        lazy = unique()
        assert producer.send(lazy, "registers and creates the topic") is True
        assert set(producer.topic_id_map) == {topic, lazy}
    with Consumer(broker, [topic, lazy]) as consumer:
        got = [consumer.dequeue(topic) for _ in range(4)]
        assert [plain(m) for m in got] == [
            (topic, 0, "text"),
            (topic, 1, "é bytes"),
            (topic, 2, "with the new id"),
            None,
        ]
        assert plain(consumer.dequeue(lazy)) == (lazy, 0, "registers and creates the topic")


def test_producer_refusals_raise_and_store_nothing(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer:
        with pytest.raises(InvalidRequest, match="UTF-8"):
            producer.send(topic, b"\xc3\x28")
        with pytest.raises(InvalidRequest) as empty:
            producer.send(topic, "")
        assert empty.value.status_code == 422
        with pytest.raises(InvalidRequest) as nul:
            producer.send(topic, "a\x00b")
        assert nul.value.status_code == 422
        with pytest.raises(InvalidRequest) as large:
            producer.send(topic, "x" * (1024 * 1024 + 1))
        assert large.value.status_code == 413
        with pytest.raises(InvalidRequest, match="UTF-8"):
            producer.send_batch(topic, ["fine", b"\xff"])
        assert producer.can_send()
    with Consumer(broker, [topic]) as consumer:
        assert consumer.size(topic) == 0


def test_producer_with_a_foreign_or_unknown_id(broker: str, topic: str) -> None:
    other = unique()
    with Producer(broker, [topic, other]) as producer:
        producer.topic_id_map[topic] = producer.topic_id_map[other]
        with pytest.raises(NotRegistered) as wrong:
            producer.send(topic, "m")
        assert wrong.value.status_code == 403
        producer.topic_id_map[topic] = 12345
        with pytest.raises(NotRegistered, match="Producer 12345 is not registered") as unknown:
            producer.send(topic, "m")
        assert (unknown.value.status_code, unknown.value.message) == (
            404,
            "Producer 12345 is not registered",
        )


def test_client_deletes_producers_and_consumers(broker: str, topic: str) -> None:
    with (
        Producer(broker, [topic]) as producer,
        Consumer(broker, [topic]) as consumer,
    ):
        assert producer.send(topic, "kept")
        consumer.size(topic)  # registers the consumer
        producer_id, consumer_id = producer.topic_id_map[topic], consumer.topic_id_map[topic]
        with Client(broker) as client:
            client.delete_producer(producer_id)
            client.delete_consumer(consumer_id)
            with pytest.raises(NotRegistered, match=f"Producer {producer_id} is not") as gone:
                client.delete_producer(producer_id)
            assert gone.value.status_code == 404
            with pytest.raises(NotRegistered, match=f"Consumer {consumer_id} is not"):
                client.delete_consumer(consumer_id)
        with pytest.raises(NotRegistered):
            consumer.size(topic)
    with Consumer(broker, [topic]) as reader:
        assert (reader.dequeue(topic)).body == "kept"


def test_producer_stop_refuses_further_sends(broker: str, topic: str) -> None:
    producer = Producer(broker, [topic])
    producer.stop()
    assert not producer.can_send()
    assert producer.send(topic, "late") is False
    assert producer.send_batch(topic, ["late"]) is False
    with pytest.raises(Stopped):
        producer.register(topic)
    producer.stop()  # twice is fine


def test_producer_without_a_broker() -> None:
    nowhere = Producer(f"127.0.0.1:{free_port()}", retries=1)
    assert nowhere.can_send()
    with pytest.raises(BrokerUnavailable, match="Cannot reach"):  # no id, so nothing kept
        nowhere.send("t", "nobody listens")
    assert not nowhere.can_send()
    nowhere.stop()


def test_send_batch_without_messages_sends_nothing(broker: str, topic: str) -> None:
    with Producer(broker) as producer:
        assert producer.send_batch(topic, []) is True
        assert producer.topic_id_map == {}


def test_send_batch_keeps_order(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer:
        assert producer.send_batch(topic, []) is True
        assert producer.send_batch(topic, ["a", b"b", "c"]) is True
        assert producer.send_batch(topic, ["d"]) is True
    with Consumer(broker, [topic]) as consumer:
        got = [consumer.dequeue(topic) for _ in range(5)]
    assert [(m.offset, m.body) if m else None for m in got] == [
        (0, "a"),
        (1, "b"),
        (2, "c"),
        (3, "d"),
        None,
    ]


def test_send_batch_refusal_stores_none(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer:
        with pytest.raises(InvalidRequest, match="UTF-8"):
            producer.send_batch(topic, ["fine", b"\xff"])
        assert producer.send_batch(topic, ["ok"]) is True
    with Consumer(broker, [topic]) as consumer:
        assert consumer.size(topic) == 1


def test_send_batch_is_all_or_nothing(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer:
        with pytest.raises(InvalidRequest):
            producer.send_batch(topic, ["fine", ""])
        assert producer.send_batch(topic, [f"m{i}" for i in range(250)]) is True
    with Consumer(broker, [topic]) as consumer:
        assert consumer.size(topic) == 250
        assert plain(consumer.dequeue(topic)) == (topic, 0, "m0")


def test_consumer_dequeue_size_and_resume(broker: str, topic: str) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    with Producer(broker, [topic]) as producer:
        for i in range(3):
            assert producer.send(topic, f"m{i}")
    consumer = Consumer(broker, [topic])
    assert consumer.size(topic) == 3
    first = consumer.dequeue(topic)
    assert plain(first) == (topic, 0, "m0")
    assert first is not None and first.produced_at is not None and first.produced_at > before
    with Consumer(broker, consumer_ids=dict(consumer.topic_id_map)) as again:
        assert plain(again.dequeue(topic)) == (topic, 1, "m1")
    assert plain(consumer.dequeue(topic)) == (topic, 2, "m2")
    assert consumer.dequeue(topic) is None
    fresh = consumer.register(topic)
    assert consumer.topic_id_map[topic] == fresh
    assert consumer.size(topic) == 3
    consumer.stop()
    with pytest.raises(Stopped):
        consumer.dequeue(topic)


def test_consumer_dequeue_and_size(broker: str, topic: str) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    with Producer(broker, [topic]) as producer:
        for i in range(3):
            assert producer.send(topic, f"m{i}")
    with Consumer(_no_scheme(broker), [topic]) as consumer:
        assert consumer.size(topic) == 3
        first = consumer.dequeue(topic)
        assert first is not None and (first.topic, first.offset, first.body) == (topic, 0, "m0")
        assert first.produced_at is not None and first.produced_at > before
        assert consumer.size(topic) == 2
        again = Consumer(broker, consumer_ids={topic: consumer.topic_id_map[topic]})
        assert plain(again.dequeue(topic)) == (topic, 1, "m1")
        assert plain(consumer.dequeue(topic)) == (topic, 2, "m2")
        assert consumer.dequeue(topic) is None
        assert again.size(topic) == 0
        again.stop()
        fresh_id = consumer.register(topic)
        assert consumer.topic_id_map[topic] == fresh_id
        assert consumer.size(topic) == 3


def test_consumer_failures(broker: str, topic: str) -> None:
    with pytest.raises(TopicNotFound) as missing, Consumer(broker, [unique("never-made")]):
        pass
    assert missing.value.status_code == 404
    _create(broker, topic)
    with Consumer(broker, consumer_ids={topic: 424242}) as consumer:
        with pytest.raises(NotRegistered, match="Consumer 424242 is not registered"):
            consumer.size(topic)
        with pytest.raises(NotRegistered):
            consumer.dequeue(topic)
        with pytest.raises(TopicNotFound):
            consumer.register(unique("never-made"))
    with pytest.raises(Stopped):
        consumer.dequeue(topic)
    with pytest.raises(Stopped):
        consumer.size(topic)


def test_get_next_round_robins_topics(broker: str) -> None:
    first, second = unique(), unique()
    with Producer(broker, [first, second]) as producer:
        for i in range(3):
            producer.send(first, f"a{i}")
            producer.send(second, f"b{i}")
    consumer = Consumer(broker, [first, second], batch_size=1)
    received: list[str] = []
    for message in consumer:
        received.append(message.body)
        if len(received) == 6:
            consumer.stop()
    assert received == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_stop_hands_over_messages_already_taken(broker: str, topic: str) -> None:
    with Producer(broker, [topic]) as producer:
        assert producer.send_batch(topic, [f"m{i}" for i in range(5)])
    consumer = Consumer(broker, [topic], batch_size=10)
    received = []
    for message in consumer.get_next():
        received.append(message.offset)
        consumer.stop()
    assert received == [0, 1, 2, 3, 4]
