"""Per-process caches stay bounded however many ids clients register; an evicted id still
works (a miss costs one indexed read)."""

import asyncio

import pytest

from app.database import open_pools
from app.service import QueueService
from app.settings import Settings
from app.storage import create_repository
from tests.service.helpers import ADMIN

ENTRIES = 10
LONG = 20_000  # ms: a poll that would wait this long unless its client leaves


@pytest.mark.parametrize("clients", [60])
async def test_caches_hold_at_most_their_size(empty_db: Settings, clients: int) -> None:
    pools = await open_pools(empty_db)
    try:
        service = QueueService.from_settings(
            create_repository(pools), empty_db.model_copy(update={"cache_entries": ENTRIES})
        )
        topics = [f"t{n}" for n in range(clients // 4)]
        producers = [
            (topic, await service.register_producer(topic, caller=ADMIN))
            for topic in topics
            for _ in range(2)
        ]
        consumers = [
            (topic, await service.register_consumer(topic, caller=ADMIN))
            for topic in topics
            for _ in range(2)
        ]
        assert max(service.cached_entries().values()) <= ENTRIES
        topic, first_producer = producers[0]
        stored = await service.produce(topic, first_producer, ["still works"], caller=ADMIN)
        _, first_consumer = consumers[0]
        [message] = await service.consume(topic, first_consumer, 10, caller=ADMIN)
        assert (message.offset, message.body) == (stored.first, "still works")
    finally:
        await pools.close()


async def test_wakeup_entries_go_when_their_waiters_leave(empty_db: Settings) -> None:
    """Each topic polled used to keep its wake-up event until its next produce: topics
    polled and never written to again held theirs forever."""
    pools = await open_pools(empty_db)
    try:
        service = QueueService.from_settings(create_repository(pools), empty_db)
        polls = []
        left = asyncio.Event()
        left.set()  # a client that has gone: its poll ends at once
        for n in range(40):
            topic = f"t{n}"
            await service.register_producer(topic, caller=ADMIN)
            for _ in range(2):
                consumer = await service.register_consumer(topic, caller=ADMIN)
                polls.append(service.consume(topic, consumer, 1, wait_ms=50, caller=ADMIN))
            polls.append(service.consume(topic, consumer, 1, wait_ms=LONG, caller=ADMIN, gone=left))
        assert all(found == [] for found in await asyncio.gather(*polls))
        async with asyncio.timeout(5):
            while service.cached_entries()["wakeups"] or service.cached_entries()["turns"]:
                await asyncio.sleep(0)
    finally:
        await pools.close()
