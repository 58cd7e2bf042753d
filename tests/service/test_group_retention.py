"""Retention under a consumer group: the group never gets a removed message, counts what
retention took before the group finished it (``skipped``), and is never blocked by it."""

from collections.abc import AsyncIterator

import pytest

from app.database import open_pools
from app.domain import Retention
from app.group_types import GroupSettings, Start
from app.service import QueueService
from app.service.groups import GroupService
from app.settings import Settings
from app.storage import QueueRepository, create_group_repository, create_repository
from tests.service.helpers import ADMIN, leased
from tests.service.test_retention import enforcer


class Clock:
    """Epoch milliseconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 10**12

    def __call__(self) -> int:
        return self.now


@pytest.fixture
async def engine_parts(
    empty_db: Settings,
) -> AsyncIterator[tuple[QueueRepository, QueueService, GroupService, Clock]]:
    pools = await open_pools(empty_db)
    clock = Clock()
    repository = create_repository(pools)
    service = QueueService.from_settings(repository, empty_db)
    groups = GroupService(
        create_group_repository(pools, clock=clock), service.wakeups, max_batch=1000
    )
    yield repository, service, groups, clock
    await pools.close()


async def test_retention_under_a_group(
    engine_parts: tuple[QueueRepository, QueueService, GroupService, Clock],
) -> None:
    repository, service, groups, clock = engine_parts
    await service.create_topic("capped", Retention(messages=3), caller=ADMIN)
    settings = GroupSettings(ack_wait_ms=1000)
    await groups.put_group("capped", "g", settings, Start("earliest"), set())
    producer = await service.register_producer("capped", caller=ADMIN)
    await service.produce("capped", producer, [f"m{i}" for i in range(10)], caller=ADMIN)
    held = await groups.fetch("capped", "g", "m", 2, 0)
    assert [m["offset"] for m in leased(held)] == [0, 1]

    assert await enforcer(repository).enforce_once() == 7  # offsets 0..6 are gone

    details = await groups.details("capped", "g")
    assert (details.lag, details.pending) == (3, 0)  # the lease's messages are gone too
    fetched = await groups.fetch("capped", "g", "m", 10, 0)
    assert [(m["offset"], m["message"]) for m in leased(fetched)] == [
        (7, "m7"),
        (8, "m8"),
        (9, "m9"),
    ]
    assert (await groups.details("capped", "g")).skipped == 5  # 2..6, never delivered

    lease_id = f"{fetched.group_id}.{fetched.token}"
    assert await groups.settle("capped", "g", lease_id, None, "ack") == 3

    clock.now += 1000  # the held lease expires: its messages cannot come back
    assert leased(await groups.fetch("capped", "g", "m", 10, 0)) == []
    details = await groups.details("capped", "g")
    assert (details.skipped, details.redelivered, details.acked) == (7, 0, 3)
    assert (details.lag, details.next_offset) == (0, 10)
