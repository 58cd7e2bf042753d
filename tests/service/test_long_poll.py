"""Long polls wait for a produce instead of polling, and wake as soon as one commits."""

import asyncio

import pytest

from app.errors import TooManyWaiters
from app.service import QueueService
from app.settings import Settings
from app.storage import QueueRepository
from tests.service.helpers import ADMIN

LONG = 20_000  # ms: far longer than any wake-up these tests wait for


async def until_waiting(service: QueueService, count: int = 1) -> None:
    """Yield to the loop until ``count`` long polls are parked on their event."""
    async with asyncio.timeout(5):
        while service.wakeups.waiting < count:
            await asyncio.sleep(0)


async def test_long_poll_wakes_on_produce(service: QueueService) -> None:
    producer_id = await service.register_producer("t", caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    poll = asyncio.create_task(service.consume("t", consumer_id, 10, wait_ms=LONG, caller=ADMIN))
    await until_waiting(service)
    await service.produce("t", producer_id, ["hello"], caller=ADMIN)
    async with asyncio.timeout(5):  # a deadline, not a speed claim: LONG is 20 s
        found = await poll
    assert [m.body for m in found] == ["hello"]


async def test_long_poll_times_out_empty(service: QueueService) -> None:
    await service.register_producer("t", caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    assert await service.consume("t", consumer_id, 10, wait_ms=50, caller=ADMIN) == []
    assert service.wakeups.waiting == 0


async def test_every_waiter_of_a_topic_wakes(service: QueueService) -> None:
    producer_id = await service.register_producer("t", caller=ADMIN)
    consumers = [await service.register_consumer("t", caller=ADMIN) for _ in range(5)]
    polls = [
        asyncio.create_task(service.consume("t", c, 10, wait_ms=LONG, caller=ADMIN))
        for c in consumers
    ]
    await until_waiting(service, 5)
    await service.produce("t", producer_id, ["all of you"], caller=ADMIN)
    async with asyncio.timeout(5):
        results = await asyncio.gather(*polls)
    assert [[m.body for m in r] for r in results] == [["all of you"]] * 5


async def test_too_many_waiters_is_refused(repository: QueueRepository, empty_db: Settings) -> None:
    service = QueueService.from_settings(repository, empty_db.model_copy(update={"max_waiters": 1}))
    await service.register_producer("t", caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    first = asyncio.create_task(service.consume("t", consumer_id, 1, wait_ms=LONG, caller=ADMIN))
    await until_waiting(service)
    with pytest.raises(TooManyWaiters):
        await service.consume("t", consumer_id, 1, wait_ms=LONG, caller=ADMIN)
    service.begin_shutdown()
    async with asyncio.timeout(5):
        assert await first == []


async def test_shutdown_answers_waiting_polls(service: QueueService) -> None:
    await service.register_producer("t", caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    poll = asyncio.create_task(service.consume("t", consumer_id, 1, wait_ms=LONG, caller=ADMIN))
    await until_waiting(service)
    service.begin_shutdown()
    async with asyncio.timeout(5):
        assert await poll == []
    # After shutdown nothing parks: a new long poll answers at once.
    async with asyncio.timeout(5):
        assert await service.consume("t", consumer_id, 1, wait_ms=LONG, caller=ADMIN) == []


async def test_concurrent_batch_consumes_never_repeat(service: QueueService) -> None:
    producer_id = await service.register_producer("t", caller=ADMIN)
    await service.produce("t", producer_id, [f"m{i}" for i in range(1000)], caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    batches = await asyncio.gather(
        *(service.consume("t", consumer_id, 37, caller=ADMIN) for _ in range(40))
    )
    offsets = [m.offset for batch in batches for m in batch]
    assert sorted(offsets) == list(range(1000))
    for batch in batches:
        assert [m.offset for m in batch] == sorted(m.offset for m in batch)
