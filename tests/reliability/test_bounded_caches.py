"""Per-process caches stay bounded however many ids clients register; an evicted id still
works (a miss costs one indexed read)."""

import pytest

from app.database import create_engine
from app.service import QueueService
from app.settings import Settings
from app.storage import create_repository
from tests.service.helpers import ADMIN

ENTRIES = 10


@pytest.mark.parametrize("clients", [60])
async def test_caches_hold_at_most_their_size(empty_db: Settings, clients: int) -> None:
    engine = create_engine(empty_db)
    try:
        service = QueueService.from_settings(
            create_repository(engine), empty_db.model_copy(update={"cache_entries": ENTRIES})
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
        await engine.dispose()
