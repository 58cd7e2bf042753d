"""Client, producer and consumer against a real server, written once for both flavours:
``test_async.py`` is the source, ``scripts/unasync.py`` generates ``test_sync.py``. What only
one flavour does (threads, tasks, when registration happens) is in ``test_lifecycle.py``.
"""

from datetime import UTC, datetime, timedelta

import pytest

from logqueue_sdk import (
    AsyncClient,
    AsyncConsumer,
    AsyncProducer,
    BrokerUnavailable,
    InvalidRequest,
    NotRegistered,
    Stopped,
    TopicExists,
    TopicNotFound,
)
from tests.live_server import free_port
from tests.sdk.helpers import plain, unique


def _no_scheme(url: str) -> str:
    return url.removeprefix("http://")


async def _create(broker: str, topic: str) -> None:
    async with AsyncClient(broker) as client:
        await client.create_topic(topic)


async def test_client_status_and_topics(broker: str, topic: str) -> None:
    async with AsyncClient(_no_scheme(broker)) as client:
        status = await client.status()
        assert status.healthy and status.database == "ok" and status.version
        assert await client.create_topic(topic) is True
        later = unique()
        assert await client.create_topic(later) is True
        topics = await client.list_topics()
        assert topics.index(topic) < topics.index(later)
        with pytest.raises(TopicExists) as exists:
            await client.create_topic(topic)
        assert (exists.value.status_code, exists.value.message) == (
            409,
            f"Topic '{topic}' already exists",
        )
        assert await client.create_topic(topic, exist_ok=True) is False
        assert (await client.list_topics()).count(topic) == 1


async def test_client_failures(broker: str) -> None:
    async with AsyncClient(broker) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.create_topic("")
        assert caught.value.status_code == 422
    async with AsyncClient(f"127.0.0.1:{free_port()}", retries=2) as nowhere:
        with pytest.raises(BrokerUnavailable, match="Cannot reach the broker") as unreachable:
            await nowhere.status()
        assert unreachable.value.status_code is None


async def test_client_refuses_bad_topic_names(broker: str) -> None:
    async with AsyncClient(broker) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.create_topic("no spaces allowed")
    assert caught.value.status_code == 422
    assert [e["loc"] for e in caught.value.errors] == [["body", "topic_name"]]


async def test_producer_registers_and_sends(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        first_id = producer.topic_id_map[topic]
        assert producer.can_send()
        assert await producer.send(topic, "text") is True
        assert await producer.send(topic, "é bytes".encode()) is True
        new_id = await producer.register(topic)
        assert new_id != first_id and producer.topic_id_map[topic] == new_id
        assert await producer.send(topic, "with the new id") is True
        lazy = unique()
        assert await producer.send(lazy, "registers and creates the topic") is True
        assert set(producer.topic_id_map) == {topic, lazy}
    async with AsyncConsumer(broker, [topic, lazy]) as consumer:
        got = [await consumer.dequeue(topic) for _ in range(4)]
        assert [plain(m) for m in got] == [
            (topic, 0, "text"),
            (topic, 1, "é bytes"),
            (topic, 2, "with the new id"),
            None,
        ]
        assert plain(await consumer.dequeue(lazy)) == (lazy, 0, "registers and creates the topic")


async def test_producer_refusals_raise_and_store_nothing(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        with pytest.raises(InvalidRequest, match="UTF-8"):
            await producer.send(topic, b"\xc3\x28")
        with pytest.raises(InvalidRequest) as empty:
            await producer.send(topic, "")
        assert empty.value.status_code == 422
        with pytest.raises(InvalidRequest) as nul:
            await producer.send(topic, "a\x00b")
        assert nul.value.status_code == 422
        with pytest.raises(InvalidRequest) as large:
            await producer.send(topic, "x" * (1024 * 1024 + 1))
        assert large.value.status_code == 413
        with pytest.raises(InvalidRequest, match="UTF-8"):
            await producer.send_batch(topic, ["fine", b"\xff"])
        assert producer.can_send()
    async with AsyncConsumer(broker, [topic]) as consumer:
        assert await consumer.size(topic) == 0


async def test_producer_with_a_foreign_or_unknown_id(broker: str, topic: str) -> None:
    other = unique()
    async with AsyncProducer(broker, [topic, other]) as producer:
        producer.topic_id_map[topic] = producer.topic_id_map[other]
        with pytest.raises(NotRegistered) as wrong:
            await producer.send(topic, "m")
        assert wrong.value.status_code == 403
        producer.topic_id_map[topic] = 12345
        with pytest.raises(NotRegistered, match="Producer 12345 is not registered") as unknown:
            await producer.send(topic, "m")
        assert (unknown.value.status_code, unknown.value.message) == (
            404,
            "Producer 12345 is not registered",
        )


async def test_client_deletes_producers_and_consumers(broker: str, topic: str) -> None:
    async with (
        AsyncProducer(broker, [topic]) as producer,
        AsyncConsumer(broker, [topic]) as consumer,
    ):
        assert await producer.send(topic, "kept")
        await consumer.size(topic)  # registers the consumer
        producer_id, consumer_id = producer.topic_id_map[topic], consumer.topic_id_map[topic]
        async with AsyncClient(broker) as client:
            await client.delete_producer(producer_id)
            await client.delete_consumer(consumer_id)
            with pytest.raises(NotRegistered, match=f"Producer {producer_id} is not") as gone:
                await client.delete_producer(producer_id)
            assert gone.value.status_code == 404
            with pytest.raises(NotRegistered, match=f"Consumer {consumer_id} is not"):
                await client.delete_consumer(consumer_id)
        with pytest.raises(NotRegistered):
            await consumer.size(topic)
    async with AsyncConsumer(broker, [topic]) as reader:
        assert (await reader.dequeue(topic)).body == "kept"


async def test_producer_stop_refuses_further_sends(broker: str, topic: str) -> None:
    producer = AsyncProducer(broker, [topic])
    await producer.stop()
    assert not producer.can_send()
    assert await producer.send(topic, "late") is False
    assert await producer.send_batch(topic, ["late"]) is False
    with pytest.raises(Stopped):
        await producer.register(topic)
    await producer.stop()  # twice is fine


async def test_producer_without_a_broker() -> None:
    nowhere = AsyncProducer(f"127.0.0.1:{free_port()}", retries=1)
    assert nowhere.can_send()
    with pytest.raises(BrokerUnavailable, match="Cannot reach"):  # no id, so nothing kept
        await nowhere.send("t", "nobody listens")
    assert not nowhere.can_send()
    await nowhere.stop()


async def test_send_batch_without_messages_sends_nothing(broker: str, topic: str) -> None:
    async with AsyncProducer(broker) as producer:
        assert await producer.send_batch(topic, []) is True
        assert producer.topic_id_map == {}


async def test_send_batch_keeps_order(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        assert await producer.send_batch(topic, []) is True
        assert await producer.send_batch(topic, ["a", b"b", "c"]) is True
        assert await producer.send_batch(topic, ["d"]) is True
    async with AsyncConsumer(broker, [topic]) as consumer:
        got = [await consumer.dequeue(topic) for _ in range(5)]
    assert [(m.offset, m.body) if m else None for m in got] == [
        (0, "a"),
        (1, "b"),
        (2, "c"),
        (3, "d"),
        None,
    ]


async def test_send_batch_refusal_stores_none(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        with pytest.raises(InvalidRequest, match="UTF-8"):
            await producer.send_batch(topic, ["fine", b"\xff"])
        assert await producer.send_batch(topic, ["ok"]) is True
    async with AsyncConsumer(broker, [topic]) as consumer:
        assert await consumer.size(topic) == 1


async def test_send_batch_is_all_or_nothing(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        with pytest.raises(InvalidRequest):
            await producer.send_batch(topic, ["fine", ""])
        assert await producer.send_batch(topic, [f"m{i}" for i in range(250)]) is True
    async with AsyncConsumer(broker, [topic]) as consumer:
        assert await consumer.size(topic) == 250
        assert plain(await consumer.dequeue(topic)) == (topic, 0, "m0")


async def test_consumer_dequeue_size_and_resume(broker: str, topic: str) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    async with AsyncProducer(broker, [topic]) as producer:
        for i in range(3):
            assert await producer.send(topic, f"m{i}")
    consumer = AsyncConsumer(broker, [topic])
    assert await consumer.size(topic) == 3
    first = await consumer.dequeue(topic)
    assert plain(first) == (topic, 0, "m0")
    assert first is not None and first.produced_at is not None and first.produced_at > before
    async with AsyncConsumer(broker, consumer_ids=dict(consumer.topic_id_map)) as again:
        assert plain(await again.dequeue(topic)) == (topic, 1, "m1")
    assert plain(await consumer.dequeue(topic)) == (topic, 2, "m2")
    assert await consumer.dequeue(topic) is None
    fresh = await consumer.register(topic)
    assert consumer.topic_id_map[topic] == fresh
    assert await consumer.size(topic) == 3
    await consumer.stop()
    with pytest.raises(Stopped):
        await consumer.dequeue(topic)


async def test_consumer_dequeue_and_size(broker: str, topic: str) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    async with AsyncProducer(broker, [topic]) as producer:
        for i in range(3):
            assert await producer.send(topic, f"m{i}")
    async with AsyncConsumer(_no_scheme(broker), [topic]) as consumer:
        assert await consumer.size(topic) == 3
        first = await consumer.dequeue(topic)
        assert first is not None and (first.topic, first.offset, first.body) == (topic, 0, "m0")
        assert first.produced_at is not None and first.produced_at > before
        assert await consumer.size(topic) == 2
        again = AsyncConsumer(broker, consumer_ids={topic: consumer.topic_id_map[topic]})
        assert plain(await again.dequeue(topic)) == (topic, 1, "m1")
        assert plain(await consumer.dequeue(topic)) == (topic, 2, "m2")
        assert await consumer.dequeue(topic) is None
        assert await again.size(topic) == 0
        await again.stop()
        fresh_id = await consumer.register(topic)
        assert consumer.topic_id_map[topic] == fresh_id
        assert await consumer.size(topic) == 3


async def test_consumer_failures(broker: str, topic: str) -> None:
    with pytest.raises(TopicNotFound) as missing:
        async with AsyncConsumer(broker, [unique("never-made")]):
            pass
    assert missing.value.status_code == 404
    await _create(broker, topic)
    async with AsyncConsumer(broker, consumer_ids={topic: 424242}) as consumer:
        with pytest.raises(NotRegistered, match="Consumer 424242 is not registered"):
            await consumer.size(topic)
        with pytest.raises(NotRegistered):
            await consumer.dequeue(topic)
        with pytest.raises(TopicNotFound):
            await consumer.register(unique("never-made"))
    with pytest.raises(Stopped):
        await consumer.dequeue(topic)
    with pytest.raises(Stopped):
        await consumer.size(topic)


async def test_get_next_round_robins_topics(broker: str) -> None:
    first, second = unique(), unique()
    async with AsyncProducer(broker, [first, second]) as producer:
        for i in range(3):
            await producer.send(first, f"a{i}")
            await producer.send(second, f"b{i}")
    consumer = AsyncConsumer(broker, [first, second], batch_size=1)
    received: list[str] = []
    async for message in consumer:
        received.append(message.body)
        if len(received) == 6:
            await consumer.stop()
    assert received == ["a0", "b0", "a1", "b1", "a2", "b2"]


async def test_stop_hands_over_messages_already_taken(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        assert await producer.send_batch(topic, [f"m{i}" for i in range(5)])
    consumer = AsyncConsumer(broker, [topic], batch_size=10)
    received = []
    async for message in consumer.get_next():
        received.append(message.offset)
        await consumer.stop()
    assert received == [0, 1, 2, 3, 4]
