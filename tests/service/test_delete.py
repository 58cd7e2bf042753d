"""Deleting a topic while another server process still has it cached."""

from collections.abc import AsyncIterator

import pytest

from app.database import open_pools
from app.errors import TopicNotFound
from app.service import QueueService
from app.settings import Settings
from app.storage import create_repository
from tests.service.helpers import ADMIN


@pytest.fixture
async def other(empty_db: Settings) -> AsyncIterator[QueueService]:
    """A second process's worth of state: its own engine and caches."""
    pools = await open_pools(empty_db)
    yield QueueService.from_settings(create_repository(pools), empty_db)
    await pools.close()


async def test_recreated_topic_is_found_by_a_process_with_a_stale_cache(
    service: QueueService, other: QueueService
) -> None:
    old_producer = await other.register_producer("t", caller=ADMIN)
    # "t" is now cached in the other process
    await other.produce("t", old_producer, ["old"], caller=ADMIN)

    await service.delete_topic("t", caller=ADMIN)
    new_producer = await service.register_producer("t", caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)

    assert (await other.produce("t", new_producer, ["new"], caller=ADMIN)).first == 0
    assert [m.body for m in await other.consume("t", consumer_id, 10, caller=ADMIN)] == ["new"]
    assert await other.remaining("t", consumer_id, caller=ADMIN) == 0


async def test_registering_on_a_topic_deleted_elsewhere_is_404(
    service: QueueService, other: QueueService
) -> None:
    await other.create_topic("t", caller=ADMIN)
    await other.register_consumer("t", caller=ADMIN)
    await service.delete_topic("t", caller=ADMIN)
    with pytest.raises(TopicNotFound):
        await other.register_consumer("t", caller=ADMIN)
    # A producer registration makes the topic again, as it does for any new name.
    producer_id = await other.register_producer("t", caller=ADMIN)
    assert (await service.produce("t", producer_id, ["again"], caller=ADMIN)).first == 0
