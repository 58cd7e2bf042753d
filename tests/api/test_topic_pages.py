"""GET /topics/{name} lists producers and consumers a page at a time: 8,000 consumers made
one answer of 418 KB. Following ``next`` reaches every one exactly once."""

import secrets
from typing import Any

import httpx
from sqlalchemy import insert, select

from app.database import create_engine
from app.models import Consumer, Producer, Topic
from app.settings import Settings
from tests.api.helpers import register_consumer, register_producer

CONSUMERS = 2_100
PRODUCERS = 250


async def add_clients(settings: Settings, topic: str) -> tuple[set[int], set[int]]:
    """Many producers and consumers at once, written straight to the tables."""
    producer_ids = {secrets.randbelow(2**53 - 1) + 1 for _ in range(PRODUCERS)}
    consumer_ids = {secrets.randbelow(2**53 - 1) + 1 for _ in range(CONSUMERS)}
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            topic_id = await conn.scalar(select(Topic.id).where(Topic.name == topic))
            await conn.execute(
                insert(Producer), [{"id": p, "topic_id": topic_id} for p in producer_ids]
            )
            await conn.execute(
                insert(Consumer), [{"id": c, "topic_id": topic_id} for c in consumer_ids]
            )
    finally:
        await engine.dispose()
    return producer_ids, consumer_ids


async def test_every_client_is_reached_once_in_bounded_pages(
    client: httpx.AsyncClient, empty_db: Settings
) -> None:
    first_producer = await register_producer(client, "t")
    producers, consumers = await add_clients(empty_db, "t")
    producers.add(first_producer)
    seen_producers: list[int] = []
    seen_consumers: list[int] = []
    path: str | None = "/topics/t?limit=300"
    pages = 0
    while path is not None:
        response = await client.get(path)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        assert len(page["producers"]) <= 300 and len(page["consumers"]) <= 300
        assert (page["producer_count"], page["consumer_count"]) == (len(producers), CONSUMERS)
        seen_producers += page["producers"]
        seen_consumers += [c["consumer_id"] for c in page["consumers"]]
        path = page["next"]
        pages += 1
        assert pages <= CONSUMERS // 300 + 1
    assert pages == -(-CONSUMERS // 300)
    assert sorted(seen_producers) == sorted(producers)
    assert sorted(seen_consumers) == sorted(consumers)


async def test_default_page_is_bounded(client: httpx.AsyncClient, empty_db: Settings) -> None:
    await register_producer(client, "t")
    await add_clients(empty_db, "t")
    page = (await client.get("/topics/t")).json()
    assert (len(page["producers"]), len(page["consumers"])) == (100, 100)
    assert page["consumer_count"] == CONSUMERS
    assert page["next"].startswith("/topics/t?limit=100&")


async def test_small_topic_lists_everything_on_one_page(client: httpx.AsyncClient) -> None:
    producer = await register_producer(client, "t")
    consumer = await register_consumer(client, "t")
    page = (await client.get("/topics/t")).json()
    assert page["producers"] == [producer]
    assert page["consumers"] == [{"consumer_id": consumer, "offset": 0, "lag": 0}]
    assert (page["producer_count"], page["consumer_count"], page["next"]) == (1, 1, None)
