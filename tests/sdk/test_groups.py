"""GroupConsumer and AsyncGroupConsumer against a real server: leases, per-message settling,
process() with acks, nacks and keep-alive, iteration, and the group's administration."""

import asyncio
import time
from datetime import UTC, datetime

import pytest

from logqueue_sdk import (
    AsyncGroupConsumer,
    AsyncGroupMessage,
    Client,
    GroupConsumer,
    GroupMessage,
    GroupNotFound,
    LeaseExpired,
    Producer,
)
from tests.sdk.helpers import unique


def fill(broker: str, topic: str, count: int) -> None:
    with Producer(broker) as producer:
        assert producer.send_batch(topic, [f"m{i}" for i in range(count)])


def test_lease_messages_settle_one_by_one(broker: str, topic: str) -> None:
    fill(broker, topic, 4)
    with Client(broker) as client:
        client.create_topic(dead := unique("dead"))
    with GroupConsumer(broker, topic, "g", max_messages=4, wait=0) as consumer:
        info = consumer.create(max_deliver=3, dead_letter_topic=dead)
        assert (info.lag, info.max_deliver, info.ack_wait) == (4, 3, 30.0)
        lease = consumer.fetch()
        assert lease is not None
        assert [(m.offset, m.body, m.delivery) for m in lease.messages] == [
            (0, "m0", 1),
            (1, "m1", 1),
            (2, "m2", 1),
            (3, "m3", 1),
        ]
        first, second, third, fourth = lease.messages
        first.ack()
        second.nack()
        third.term()
        assert fourth.extend(60) > datetime.now(UTC)
        again = consumer.fetch()
        assert again is not None
        assert [(m.offset, m.delivery) for m in again.messages] == [(1, 2)]
        assert again.ack() == 1
        assert lease.ack() == 1  # only offset 3 was left on it
        with pytest.raises(LeaseExpired):
            lease.ack()
        details = consumer.details()
        assert (details.acked, details.dead_lettered, details.redelivered, details.lag) == (
            3,
            1,
            1,
            0,
        )


def test_seek_replays_and_delete_removes(broker: str, topic: str) -> None:
    fill(broker, topic, 3)
    with GroupConsumer(broker, topic, "g", wait=0) as consumer:
        consumer.create(start="latest")
        assert consumer.fetch() is None
        assert consumer.seek(1).next_offset == 1
        lease = consumer.fetch(max_messages=10)
        assert lease is not None
        assert [m.offset for m in lease.messages] == [1, 2]
        assert consumer.seek(datetime(2000, 1, 1, tzinfo=UTC)).next_offset == 0
        consumer.delete()
        with pytest.raises(GroupNotFound):
            consumer.details()


def test_process_acks_returns_and_nacks_raises(broker: str, topic: str) -> None:
    fill(broker, topic, 5)
    seen: list[tuple[int, int]] = []

    def handler(message: GroupMessage) -> None:
        seen.append((message.offset, message.delivery))
        if message.offset == 2 and message.delivery == 1:
            raise RuntimeError("flaky")

    with GroupConsumer(broker, topic, "g", wait=0.2) as consumer:
        consumer.create()
        assert consumer.process(handler, until_empty=True) == 6
        assert seen == [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (2, 2)]
        details = consumer.details()
        assert (details.acked, details.redelivered, details.lag) == (5, 1, 0)


def test_process_extends_the_lease_of_a_slow_handler(broker: str, topic: str) -> None:
    fill(broker, topic, 1)
    with (
        GroupConsumer(broker, topic, "g", wait=0, member="slow") as slow,
        GroupConsumer(broker, topic, "g", wait=0, member="thief") as thief,
    ):
        slow.create(ack_wait=1.5)
        stolen: list[int] = []

        def handler(message: GroupMessage) -> None:
            # Work for more than two ack waits; meanwhile the other member finds nothing.
            until = time.monotonic() + 3.5
            while time.monotonic() < until:
                lease = thief.fetch()
                stolen.extend(m.offset for m in lease.messages) if lease else None
                time.sleep(0.25)  # the slow work itself

        assert slow.process(handler, limit=1) == 1
        assert stolen == []
        assert slow.details().acked == 1


async def test_async_iteration_and_lease_expiry(broker: str, topic: str) -> None:
    await asyncio.to_thread(fill, broker, topic, 3)
    async with AsyncGroupConsumer(broker, topic, "g", max_messages=3, wait=0) as consumer:
        await consumer.create(ack_wait=0.2)
        received: list[AsyncGroupMessage] = []
        async for message in consumer:
            received.append(message)
            if len(received) == 3:
                break
        assert [m.offset for m in received] == [0, 1, 2]
        await consumer.create(ack_wait=30)  # leases from now on last long enough to ack
        again = await consumer.fetch(max_messages=3, wait=5)  # woken at the old one's expiry
        assert again is not None
        assert [m.delivery for m in again.messages] == [2, 2, 2]
        with pytest.raises(LeaseExpired):
            await received[0].ack()
        assert await again.ack() == 3


async def test_async_process_until_empty(broker: str, topic: str) -> None:
    await asyncio.to_thread(fill, broker, topic, 3)
    bodies: list[str] = []

    async def handler(message: AsyncGroupMessage) -> None:
        bodies.append(message.body)

    async with AsyncGroupConsumer(broker, topic, "g", wait=0.1) as consumer:
        await consumer.create()
        assert await consumer.process(handler, until_empty=True) == 3
    assert bodies == ["m0", "m1", "m2"]


def test_unknown_group_is_group_not_found(broker: str, topic: str) -> None:
    fill(broker, topic, 1)
    with GroupConsumer(broker, topic, "missing", wait=0) as consumer, pytest.raises(GroupNotFound):
        consumer.fetch()
