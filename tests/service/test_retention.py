"""Retention trims each limited topic from its head; readers behind it skip ahead."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx

from app.domain import Retention
from app.main import create_app
from app.service import QueueService
from app.service.retention import RetentionEnforcer
from app.settings import Settings
from app.storage import QueueRepository
from tests.api.helpers import create_topic, produce, register_consumer, register_producer
from tests.service.helpers import ADMIN


def enforcer(
    repository: QueueRepository, *, batch_size: int = 1000, at: datetime | None = None
) -> RetentionEnforcer:
    return RetentionEnforcer(
        repository,
        interval_s=60,
        batch_size=batch_size,
        stop=asyncio.Event(),
        clock=lambda: at or datetime.now(UTC),
    )


async def fill(service: QueueService, topic: str, count: int) -> int:
    producer_id = await service.register_producer(topic, caller=ADMIN)
    for i in range(count):
        await service.produce(topic, producer_id, [f"m{i}"], caller=ADMIN)
    return producer_id


async def test_message_limit_keeps_the_newest(
    service: QueueService, repository: QueueRepository
) -> None:
    await service.create_topic("capped", Retention(messages=3), caller=ADMIN)
    behind = await service.register_consumer("capped", caller=ADMIN)
    await fill(service, "capped", 10)
    ahead = await service.register_consumer("capped", caller=ADMIN)
    assert [m.offset for m in await service.consume("capped", ahead, 9, caller=ADMIN)] == list(
        range(9)
    )

    assert await enforcer(repository).enforce_once() == 7

    details = await service.topic_details("capped")
    assert (details.first_offset, details.next_offset) == (7, 10)
    assert await service.remaining("capped", behind, caller=ADMIN) == 3
    assert await service.remaining("capped", ahead, caller=ADMIN) == 1
    assert [
        (m.offset, m.body) for m in await service.consume("capped", behind, 10, caller=ADMIN)
    ] == [
        (7, "m7"),
        (8, "m8"),
        (9, "m9"),
    ]
    assert [m.offset for m in await service.consume("capped", ahead, 10, caller=ADMIN)] == [9]
    assert await enforcer(repository).enforce_once() == 0


async def test_deletes_in_batches_until_done(
    service: QueueService, repository: QueueRepository
) -> None:
    await service.create_topic("big", Retention(messages=1), caller=ADMIN)
    await fill(service, "big", 12)
    assert await enforcer(repository, batch_size=5).enforce_once() == 11
    consumer = await service.register_consumer("big", caller=ADMIN)
    assert [m.body for m in await service.consume("big", consumer, 5, caller=ADMIN)] == ["m11"]


async def test_age_limit_cuts_at_the_first_young_message(
    service: QueueService, repository: QueueRepository
) -> None:
    await service.create_topic("aged", Retention(ms=60_000), caller=ADMIN)
    producer_id = await fill(service, "aged", 2)
    boundary = datetime.now(UTC)
    for body in ("young0", "young1"):
        await service.produce("aged", producer_id, [body], caller=ADMIN)
    consumer = await service.register_consumer("aged", caller=ADMIN)

    # A minute after the boundary, only what was produced after it is young enough.
    later = boundary + timedelta(milliseconds=60_000)
    assert await enforcer(repository, at=later).enforce_once() == 2
    assert [m.body for m in await service.consume("aged", consumer, 10, caller=ADMIN)] == [
        "young0",
        "young1",
    ]

    # Much later everything has expired; the log is empty but offsets carry on.
    assert await enforcer(repository, at=later + timedelta(hours=1)).enforce_once() == 2
    assert await service.remaining("aged", consumer, caller=ADMIN) == 0
    details = await service.topic_details("aged")
    assert (details.first_offset, details.next_offset) == (4, 4)
    assert (await service.produce("aged", producer_id, ["after"], caller=ADMIN)).first == 4
    assert [m.body for m in await service.consume("aged", consumer, 10, caller=ADMIN)] == ["after"]


async def test_topics_without_limits_are_untouched(
    service: QueueService, repository: QueueRepository
) -> None:
    await fill(service, "forever", 5)
    far_future = datetime.now(UTC) + timedelta(days=3650)
    assert await enforcer(repository, at=far_future).enforce_once() == 0
    assert (await service.topic_details("forever")).first_offset == 0


async def test_background_task_enforces_retention(empty_db: Settings) -> None:
    settings = empty_db.model_copy(update={"retention_interval_s": 0.05})
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://r") as client,
    ):
        response = await client.post("/topics", json={"topic_name": "t", "retention_messages": 2})
        assert response.status_code == 200
        await create_topic(client, "unlimited")
        producer_id = await register_producer(client, "t")
        consumer_id = await register_consumer(client, "t")
        for i in range(5):
            await produce(client, "t", producer_id, f"m{i}")

        deadline = time.monotonic() + 10
        while (await client.get("/topics/t")).json()["first_offset"] != 3:
            assert time.monotonic() < deadline, "retention did not run"
            await asyncio.sleep(0.02)
        size = await client.get("/size", params={"topic": "t", "consumer_id": consumer_id})
        assert size.json()["size"] == 2
        body = (await client.get("/topics/t")).json()
        assert (body["length"], body["consumers"][0]["lag"]) == (2, 2)
