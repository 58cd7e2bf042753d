"""The asynchronous flavour (AsyncClient, AsyncProducer, AsyncConsumer) against a real server."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from logqueue_sdk import (
    AsyncClient,
    AsyncConsumer,
    AsyncProducer,
    BrokerUnavailable,
    InvalidRequest,
    Message,
    NotRegistered,
    Stopped,
    TopicExists,
    TopicNotFound,
)
from tests.live_server import free_port
from tests.sdk.helpers import plain, unique

DEADLINE = 30.0


async def _create(broker: str, topic: str) -> None:
    async with AsyncClient(broker) as client:
        await client.create_topic(topic)


async def test_client_status_and_topics(broker: str, topic: str) -> None:
    async with AsyncClient(broker.removeprefix("http://")) as client:
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


async def test_client_failures(broker: str) -> None:
    async with AsyncClient(broker) as client:
        with pytest.raises(InvalidRequest) as caught:
            await client.create_topic("")
        assert caught.value.status_code == 422
    async with AsyncClient(f"127.0.0.1:{free_port()}", retries=2) as nowhere:
        with pytest.raises(BrokerUnavailable, match="Cannot reach the broker"):
            await nowhere.status()


async def test_producer_registers_and_sends(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        first_id = producer.topic_id_map[topic]
        assert producer.can_send()
        assert await producer.send(topic, "text") is True
        assert await producer.send(topic, "é bytes".encode()) is True
        new_id = await producer.register(topic)
        assert new_id != first_id and producer.topic_id_map[topic] == new_id
        lazy = unique()
        assert await producer.send(lazy, "registers and creates the topic") is True
        assert set(producer.topic_id_map) == {topic, lazy}
    async with AsyncConsumer(broker, [topic, lazy]) as consumer:
        got = [await consumer.dequeue(topic) for _ in range(3)]
        assert [plain(m) for m in got] == [(topic, 0, "text"), (topic, 1, "é bytes"), None]
        assert plain(await consumer.dequeue(lazy)) == (lazy, 0, "registers and creates the topic")


async def test_producer_without_start_registers_on_first_send(broker: str, topic: str) -> None:
    producer = AsyncProducer(broker, [topic])
    assert producer.topic_id_map == {}
    assert await producer.send(topic, "m") is True
    assert list(producer.topic_id_map) == [topic]
    await producer.stop()


async def test_producer_refusals_raise_and_store_nothing(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        with pytest.raises(InvalidRequest, match="UTF-8"):
            await producer.send(topic, b"\xc3\x28")
        with pytest.raises(InvalidRequest) as empty:
            await producer.send(topic, "")
        assert empty.value.status_code == 422
        with pytest.raises(InvalidRequest) as large:
            await producer.send(topic, "x" * (1024 * 1024 + 1))
        assert large.value.status_code == 413
        with pytest.raises(InvalidRequest, match="UTF-8"):
            await producer.send_batch(topic, ["fine", b"\xff"])
        other = unique()
        await producer.register(other)
        producer.topic_id_map[topic] = producer.topic_id_map[other]
        with pytest.raises(NotRegistered) as wrong:
            await producer.send(topic, "m")
        assert wrong.value.status_code == 403
        producer.topic_id_map[topic] = 12345
        with pytest.raises(NotRegistered, match="Producer 12345 is not registered"):
            await producer.send(topic, "m")
    async with AsyncConsumer(broker, [topic]) as consumer:
        assert await consumer.size(topic) == 0


async def test_producer_stop_and_unreachable_broker(broker: str, topic: str) -> None:
    producer = AsyncProducer(broker, [topic])
    await producer.start()
    in_flight = [asyncio.create_task(producer.send(topic, f"m{i}")) for i in range(20)]
    await asyncio.wait(in_flight, timeout=DEADLINE, return_when=asyncio.FIRST_COMPLETED)
    await producer.stop()
    results = await asyncio.gather(*in_flight)
    assert not producer.can_send()
    assert await producer.send(topic, "late") is False
    assert await producer.send_batch(topic, ["late"]) is False
    with pytest.raises(Stopped):
        await producer.register(topic)
    async with AsyncConsumer(broker, [topic]) as consumer:
        assert await consumer.size(topic) == results.count(True)

    nowhere = AsyncProducer(f"127.0.0.1:{free_port()}", retries=1)
    assert nowhere.can_send()
    with pytest.raises(BrokerUnavailable, match="Cannot reach"):  # no id, so nothing kept
        await nowhere.send("t", "nobody listens")
    assert not nowhere.can_send()
    await nowhere.stop()


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


@pytest.mark.needs_batch_api
async def test_send_batch_is_all_or_nothing(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        with pytest.raises(InvalidRequest):
            await producer.send_batch(topic, ["fine", ""])
        assert await producer.send_batch(topic, [f"m{i}" for i in range(250)]) is True
    async with AsyncConsumer(broker, [topic]) as consumer:
        assert await consumer.size(topic) == 250


async def test_consumer_dequeue_size_and_resume(broker: str, topic: str) -> None:
    before = datetime.now(UTC) - timedelta(minutes=5)
    async with AsyncProducer(broker, [topic]) as producer:
        for i in range(3):
            assert await producer.send(topic, f"m{i}")
    consumer = AsyncConsumer(broker, [topic])
    assert await consumer.size(topic) == 3  # registers on first use
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


async def test_get_next_waits_for_new_messages_until_stopped(broker: str, topic: str) -> None:
    await _create(broker, topic)
    consumer = AsyncConsumer(broker, [topic], max_wait=0.2)
    three = asyncio.get_running_loop().create_future()
    received: list[Message] = []

    async def read() -> None:
        async for message in consumer.get_next():
            received.append(message)
            if len(received) == 3:
                three.set_result(None)

    reading = asyncio.create_task(read())
    async with AsyncProducer(broker, [topic]) as producer:
        for i in range(3):
            await producer.send(topic, f"late {i}")
    await asyncio.wait_for(three, DEADLINE)
    await consumer.stop()
    await asyncio.wait_for(reading, DEADLINE)
    assert [m.offset for m in received] == [0, 1, 2]


@pytest.mark.needs_batch_api
async def test_stop_hands_over_messages_already_taken(broker: str, topic: str) -> None:
    async with AsyncProducer(broker, [topic]) as producer:
        assert await producer.send_batch(topic, [f"m{i}" for i in range(5)])
    consumer = AsyncConsumer(broker, [topic], batch_size=10)
    received = []
    async for message in consumer.get_next():
        received.append(message.offset)
        await consumer.stop()
    assert received == [0, 1, 2, 3, 4]
    assert consumer._inbox.long_polls


@pytest.mark.needs_batch_api
async def test_get_next_long_polls_the_broker(broker: str, topic: str) -> None:
    await _create(broker, topic)
    consumer = AsyncConsumer(broker, [topic], max_wait=2.0)

    async def first() -> Message:
        async for message in consumer.get_next():
            return message
        raise AssertionError("get_next ended")

    reading = asyncio.create_task(first())
    async with AsyncProducer(broker, [topic]) as producer:
        await producer.send(topic, "wakes the poll")
    assert plain(await asyncio.wait_for(reading, DEADLINE)) == (topic, 0, "wakes the poll")
    assert consumer._inbox.long_polls
    await consumer.stop()
