"""LOGQUEUE_IDLE_CLIENT_TTL: producers and consumers unused for longer than the TTL are
removed by the retention task; ids in use are kept, and using an id does not write its
row on every request."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.database import open_pools
from app.errors import ConsumerNotFound, ProducerNotFound
from app.service import QueueService
from app.service.idle_clients import IdlePolicy
from app.service.retention import RetentionEnforcer
from app.service.wakeups import Wakeups
from app.settings import Settings
from app.storage import QueueRepository, create_repository
from tests.api.helpers import register_consumer, register_producer
from tests.api.test_auth import serving
from tests.service.helpers import ADMIN

TTL = timedelta(seconds=60)  # stamping interval: 15 s


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def count_touches(repository: QueueRepository) -> list[int]:
    """Record the ids whose last_used_at is written."""
    touched: list[int] = []

    def recording(real: Callable[[int, datetime], Awaitable[bool]]) -> Callable[..., Any]:
        async def touch(client_id: int, now: datetime) -> bool:
            touched.append(client_id)
            return await real(client_id, now)

        return touch

    repository.touch_producer = recording(repository.touch_producer)  # type: ignore[method-assign]
    repository.touch_consumer = recording(repository.touch_consumer)  # type: ignore[method-assign]
    return touched


async def test_unused_ids_are_removed_and_used_ones_kept(empty_db: Settings) -> None:
    pools = await open_pools(empty_db)
    clock = Clock()
    try:
        repository = create_repository(pools)
        touched = count_touches(repository)
        idle = IdlePolicy(TTL)
        service = QueueService(
            repository,
            Wakeups(100),
            max_message_bytes=1024,
            max_batch=100,
            max_batch_bytes=10**6,
            idle=idle,
            clock=clock,
        )
        retention = RetentionEnforcer(
            repository, interval_s=1, batch_size=1, stop=asyncio.Event(), idle=idle, clock=clock
        )
        idle_producer, used_producer = [
            await service.register_producer("t", caller=ADMIN) for _ in range(2)
        ]
        idle_consumer, used_consumer = [
            await service.register_consumer("t", caller=ADMIN) for _ in range(2)
        ]

        for _ in range(20):  # used again and again within the stamping interval
            await service.produce("t", used_producer, ["m"], caller=ADMIN)
            await service.consume("t", used_consumer, 1, caller=ADMIN)
        assert touched == []

        clock.now += TTL + timedelta(seconds=1)
        await service.produce("t", used_producer, ["m"], caller=ADMIN)
        await service.remaining("t", used_consumer, caller=ADMIN)
        assert touched == [used_producer, used_consumer]
        # Unused for just over the TTL, but the stamps may lag by up to an interval.
        assert await retention.remove_idle_clients() == 0

        clock.now += idle.stamp_interval
        assert await retention.remove_idle_clients() == 2  # a batch at a time
        with pytest.raises(ProducerNotFound):
            await service.produce("t", idle_producer, ["late"], caller=ADMIN)
        with pytest.raises(ConsumerNotFound):
            await service.consume("t", idle_consumer, 1, caller=ADMIN)
        assert (await service.produce("t", used_producer, ["kept"], caller=ADMIN)).count == 1
        assert await service.remaining("t", used_consumer, caller=ADMIN) >= 1
    finally:
        await pools.close()


async def test_without_a_ttl_nothing_is_removed(empty_db: Settings) -> None:
    pools = await open_pools(empty_db)
    clock = Clock()
    try:
        repository = create_repository(pools)
        service = QueueService(
            repository,
            Wakeups(100),
            max_message_bytes=1024,
            max_batch=100,
            max_batch_bytes=10**6,
            clock=clock,
        )
        retention = RetentionEnforcer(
            repository, interval_s=1, batch_size=10, stop=asyncio.Event(), clock=clock
        )
        await service.register_producer("t", caller=ADMIN)
        consumer = await service.register_consumer("t", caller=ADMIN)
        clock.now += timedelta(days=3650)
        assert await retention.remove_idle_clients() == 0
        assert await service.remaining("t", consumer, caller=ADMIN) == 0
    finally:
        await pools.close()


async def test_the_retention_task_removes_an_idle_consumer(empty_db: Settings) -> None:
    """The setting, wired into a running server: one consumer is asked about all along
    (used), the other never (idle) and disappears."""
    settings = empty_db.model_copy(update={"idle_client_ttl": 2.0, "retention_interval_s": 0.1})
    async with serving(settings) as client:
        await register_producer(client, "t")
        idle, used = [await register_consumer(client, "t") for _ in range(2)]
        async with asyncio.timeout(30):
            while True:
                asked = await client.get("/size", params={"topic": "t", "consumer_id": used})
                assert asked.status_code == 200, asked.text
                listed = (await client.get("/topics/t")).json()["consumers"]
                if idle not in [c["consumer_id"] for c in listed]:
                    break
                await asyncio.sleep(0.05)  # pacing the polls of a visible condition
        assert [c["consumer_id"] for c in listed] == [used]
        gone = await client.get("/size", params={"topic": "t", "consumer_id": idle})
        assert gone.status_code == 404
