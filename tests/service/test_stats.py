"""Console figures: rates from samples on a shared time grid, and topics at a glance."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.database import create_engine, open_pools
from app.group_types import GroupSettings, Start
from app.service import QueueService
from app.service.caller import UNRESTRICTED
from app.service.groups import GroupService
from app.service.stats import ThroughputStats
from app.settings import Settings
from app.storage import create_group_repository, create_repository
from app.storage.stats import StatsRepository


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def stats_repository(empty_db: Settings) -> AsyncIterator[StatsRepository]:
    engine = create_engine(empty_db)
    yield StatsRepository(engine)
    await engine.dispose()


async def test_rates_are_differences_of_samples_and_processes_share_slots(
    service: QueueService, stats_repository: StatsRepository
) -> None:
    clock = Clock()
    # Two "processes" sampling the same database on the same grid.
    one, two = (
        ThroughputStats(stats_repository, interval_s=10, stop=asyncio.Event(), clock=clock)
        for _ in range(2)
    )
    producer = await service.register_producer("t", caller=UNRESTRICTED)
    consumer = await service.register_consumer("t", caller=UNRESTRICTED)
    await one.sample_once()
    await two.sample_once()  # same slot: the first sample stands
    await service.produce("t", producer, ["a"] * 30, caller=UNRESTRICTED)
    await service.consume("t", consumer, 10, caller=UNRESTRICTED)
    clock.now += 10
    await one.sample_once()
    await service.produce("t", producer, ["b"] * 5, caller=UNRESTRICTED)
    clock.now += 10
    await two.sample_once()
    [topic] = await one.all_topics()
    assert [(p.produced_per_s, p.consumed_per_s) for p in topic.rates] == [(3.0, 1.0), (0.5, 0.0)]
    assert (topic.summary.next_offset, topic.summary.consumers, topic.summary.max_lag) == (
        35,
        1,
        25,
    )
    assert (await two.topic("t")).rates == topic.rates


async def test_largest_lag_counts_groups_as_well_as_consumers(
    empty_db: Settings, stats_repository: StatsRepository
) -> None:
    pools = await open_pools(empty_db)
    try:
        service = QueueService.from_settings(create_repository(pools), empty_db)
        groups = GroupService(create_group_repository(pools), service.wakeups, max_batch=1000)
        producer = await service.register_producer("t", caller=UNRESTRICTED)
        consumer = await service.register_consumer("t", caller=UNRESTRICTED)
        await service.produce("t", producer, ["m"] * 30, caller=UNRESTRICTED)
        await service.consume("t", consumer, 20, caller=UNRESTRICTED)  # consumer lag 10
        settings = GroupSettings(ack_wait_ms=60_000)
        await groups.put_group("t", "g", settings, Start("earliest"), set())
        await groups.fetch("t", "g", "member", 5, 0)  # out on a lease: not finished
        stats = ThroughputStats(stats_repository, interval_s=10, stop=asyncio.Event())
        summary = (await stats.topic("t")).summary
    finally:
        await pools.close()
    assert (summary.consumers, summary.groups, summary.max_lag) == (1, 1, 30)
