"""What differs between the flavours, so is not generated: when a producer or consumer
registers (a threaded constructor does it, asyncio waits for ``start()``), and concurrent
use from threads or tasks, with ``stop()`` coming from another one."""

import asyncio
import threading

import pytest

from logqueue_sdk import (
    AsyncConsumer,
    AsyncProducer,
    BrokerUnavailable,
    Consumer,
    Message,
    Producer,
)
from tests.live_server import free_port
from tests.sdk.helpers import create_topic, plain, unique, wait_until

DEADLINE = 30.0


def _no_scheme(url: str) -> str:
    return url.removeprefix("http://")


# --- threads -------------------------------------------------------------------------------


def test_assignment_example_runs_as_written(broker: str) -> None:
    """The course's example, with our names: the producer loops while it can send, the
    consumer prints topics; both end when stopped from another thread."""
    topic1, topic2 = unique("topic1"), unique("topic2")
    address = _no_scheme(broker)
    producer = Producer(topics=[topic1, topic2], broker=address)
    sent: list[bool] = []

    def produce() -> None:
        while producer.can_send():
            sent.append(producer.send(topic1, b"DEBUG: this is a log line"))

    producing = threading.Thread(target=produce)
    producing.start()
    consumer = Consumer(topics=[topic1, topic2], broker=address)
    printed: list[str] = []

    def consume() -> None:
        for msg in consumer.get_next():
            printed.append(msg.topic)

    consuming = threading.Thread(target=consume)
    consuming.start()
    wait_until(lambda: len(printed) >= 20, what="20 messages consumed")
    producer.stop()
    producing.join(timeout=30)
    assert not producing.is_alive() and not producer.can_send()
    stored = sent.count(True)
    wait_until(lambda: len(printed) == stored, what="every confirmed message consumed")
    consumer.stop()
    consuming.join(timeout=30)
    assert not consuming.is_alive()
    assert set(printed) == {topic1}
    assert set(sent[:stored]) == {True}  # only sends racing stop() may report False


def test_constructors_register_at_once(broker: str, topic: str) -> None:
    producer = Producer(broker, [topic])
    assert list(producer.topic_id_map) == [topic]
    consumer = Consumer(broker, [topic])
    assert list(consumer.topic_id_map) == [topic]
    producer.stop()
    consumer.stop()


def test_producer_constructor_without_a_broker_raises() -> None:
    with pytest.raises(BrokerUnavailable):
        Producer(f"127.0.0.1:{free_port()}", ["t"], retries=1)


def test_producer_stop_waits_for_sends_in_flight(broker: str, topic: str) -> None:
    producer = Producer(broker, [topic])
    results: list[bool] = []

    def send_many() -> None:
        results.extend(producer.send(topic, "m") for _ in range(50))

    senders = [threading.Thread(target=send_many) for _ in range(4)]
    for sender in senders:
        sender.start()
    wait_until(lambda: len(results) >= 10, what="some sends done")
    producer.stop()
    for sender in senders:
        sender.join(timeout=30)
    with Consumer(broker, [topic]) as consumer:
        # Every send reported True was stored, and nothing else was.
        assert consumer.size(topic) == results.count(True)


def test_get_next_waits_for_new_messages_until_stopped(broker: str, topic: str) -> None:
    create_topic(broker, topic)
    consumer = Consumer(broker, [topic], max_wait=0.2)
    received: list[Message] = []
    reading = threading.Thread(target=lambda: received.extend(consumer.get_next()))
    reading.start()
    with Producer(broker, [topic]) as producer:
        for i in range(3):
            producer.send(topic, f"late {i}")
    wait_until(lambda: len(received) == 3, what="messages produced while waiting")
    consumer.stop()
    reading.join(timeout=10)
    assert not reading.is_alive()
    assert [m.offset for m in received] == [0, 1, 2]


def test_stop_ends_a_waiting_get_next(broker: str, topic: str) -> None:
    create_topic(broker, topic)
    consumer = Consumer(broker, [topic])
    received: list[Message] = []
    reading = threading.Thread(target=lambda: received.extend(consumer.get_next()))
    reading.start()
    with Producer(broker, [topic]) as producer:
        producer.send(topic, "only one")
    wait_until(lambda: len(received) == 1, what="the message")
    consumer.stop()  # get_next is now waiting on an empty topic
    reading.join(timeout=30)
    assert not reading.is_alive()
    assert len(received) == 1


def test_get_next_long_polls_the_broker(broker: str, topic: str) -> None:
    create_topic(broker, topic)
    consumer = Consumer(broker, [topic], max_wait=2.0)
    received: list[Message] = []
    reading = threading.Thread(target=lambda: received.extend(consumer.get_next()))
    reading.start()
    with Producer(broker, [topic]) as producer:
        producer.send(topic, "wakes the poll")
    wait_until(lambda: len(received) == 1, what="the long poll to answer")
    consumer.stop()
    reading.join(timeout=10)
    assert [plain(m) for m in received] == [(topic, 0, "wakes the poll")]


# --- asyncio tasks -------------------------------------------------------------------------


async def test_producer_without_start_registers_on_first_send(broker: str, topic: str) -> None:
    producer = AsyncProducer(broker, [topic])
    assert producer.topic_id_map == {}
    assert await producer.send(topic, "m") is True
    assert list(producer.topic_id_map) == [topic]
    await producer.stop()


async def test_async_with_without_a_broker_raises() -> None:
    with pytest.raises(BrokerUnavailable):
        async with AsyncProducer(f"127.0.0.1:{free_port()}", ["t"], retries=1):
            pass


async def test_producer_stop_with_sends_in_flight(broker: str, topic: str) -> None:
    producer = AsyncProducer(broker, [topic])
    await producer.start()
    in_flight = [asyncio.create_task(producer.send(topic, f"m{i}")) for i in range(20)]
    await asyncio.wait(in_flight, timeout=DEADLINE, return_when=asyncio.FIRST_COMPLETED)
    await producer.stop()
    results = await asyncio.gather(*in_flight)
    assert not producer.can_send()
    async with AsyncConsumer(broker, [topic]) as consumer:
        assert await consumer.size(topic) == results.count(True)


async def test_get_next_waits_for_new_messages_until_stopped_async(broker: str, topic: str) -> None:
    create_topic(broker, topic)
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


async def test_get_next_long_polls_the_broker_async(broker: str, topic: str) -> None:
    create_topic(broker, topic)
    consumer = AsyncConsumer(broker, [topic], max_wait=2.0)

    async def first() -> Message:
        async for message in consumer.get_next():
            return message
        raise AssertionError("get_next ended")

    reading = asyncio.create_task(first())
    async with AsyncProducer(broker, [topic]) as producer:
        await producer.send(topic, "wakes the poll")
    assert plain(await asyncio.wait_for(reading, DEADLINE)) == (topic, 0, "wakes the poll")
    await consumer.stop()
