"""Offsets and reads stay exact under concurrency, within one process and across two."""

import asyncio

import pytest

from app.database import open_pools
from app.service import QueueService
from app.settings import Settings
from app.storage import create_repository
from tests.service.helpers import ADMIN


async def test_200_concurrent_produces_get_offsets_0_to_199(service: QueueService) -> None:
    producer_ids = [await service.register_producer("t", caller=ADMIN) for _ in range(4)]

    async def send(worker: int) -> list[int]:
        producer_id = producer_ids[worker]
        return [
            (await service.produce("t", producer_id, [f"{worker}-{i}"], caller=ADMIN)).first
            for i in range(50)
        ]

    per_worker = await asyncio.gather(*(send(w) for w in range(4)))
    offsets = sorted(o for worker in per_worker for o in worker)
    assert offsets == list(range(200))
    for worker_offsets in per_worker:
        assert worker_offsets == sorted(worker_offsets)  # each client's order is kept

    consumer_id = await service.register_consumer("t", caller=ADMIN)
    stored = await service.consume("t", consumer_id, 1000, caller=ADMIN)
    assert [m.offset for m in stored] == list(range(200))
    by_offset = {m.offset: m.body for m in stored}
    for worker, worker_offsets in enumerate(per_worker):
        assert [by_offset[o] for o in worker_offsets] == [f"{worker}-{i}" for i in range(50)]


async def test_200_gathered_produces_all_at_once(service: QueueService) -> None:
    producer_id = await service.register_producer("t", caller=ADMIN)
    results = await asyncio.gather(
        *(service.produce("t", producer_id, [f"m{i}"], caller=ADMIN) for i in range(200))
    )
    offsets = [r.first for r in results]
    assert sorted(offsets) == list(range(200))
    # Arrival order is offset order: gather starts the coroutines in list order.
    assert list(offsets) == list(range(200))


async def test_20_concurrent_consumes_return_20_distinct_messages(service: QueueService) -> None:
    producer_id = await service.register_producer("t", caller=ADMIN)
    for i in range(20):
        await service.produce("t", producer_id, [f"m{i}"], caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    results = await asyncio.gather(
        *(service.consume("t", consumer_id, caller=ADMIN) for _ in range(20))
    )
    got = [m.body for batch in results for m in batch]
    assert sorted(got) == sorted(f"m{i}" for i in range(20))
    assert await service.remaining("t", consumer_id, caller=ADMIN) == 0
    assert await service.consume("t", consumer_id, caller=ADMIN) == []


@pytest.mark.postgres_only
async def test_two_service_instances_share_one_database(
    empty_db: Settings, service: QueueService
) -> None:
    """Two processes' worth of state: separate engines, caches and locks, so only the
    database's row locks keep offsets unique and reads exclusive."""
    pools = await open_pools(empty_db)
    other = QueueService.from_settings(create_repository(pools), empty_db)
    producer_a = await service.register_producer("t", caller=ADMIN)
    producer_b = await other.register_producer("t", caller=ADMIN)
    await asyncio.gather(
        *(service.produce("t", producer_a, [f"a{i}"], caller=ADMIN) for i in range(50)),
        *(other.produce("t", producer_b, [f"b{i}"], caller=ADMIN) for i in range(50)),
    )
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    reads = await asyncio.gather(
        *(s.consume("t", consumer_id, caller=ADMIN) for s in [service, other] * 50)
    )
    got = [m for batch in reads for m in batch]
    assert sorted(m.offset for m in got) == list(range(100))
    assert len({m.body for m in got}) == 100
    await pools.close()
