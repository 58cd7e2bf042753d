"""A batch consume is capped by bytes as well as by count (LOGQUEUE_MAX_BATCH_BYTES), so
a few consumers of large messages cannot make the server hold gigabytes; a batch always
holds at least one message, and nothing is skipped."""

from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.api.helpers import register_consumer, register_producer

CAP = 1000
BODY = "é" * 150  # 300 bytes of UTF-8, 150 characters: the cap counts bytes


@pytest.fixture
async def capped(empty_db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(empty_db.model_copy(update={"max_batch_bytes": CAP}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://logqueue.test") as c:
            yield c


async def consume_batch(client: httpx.AsyncClient, consumer_id: int) -> list[int]:
    response = await client.get(
        "/consumer/consume",
        params={"topic": "t", "consumer_id": consumer_id, "max_messages": 1000},
    )
    assert response.status_code == 200, response.text
    return [m["offset"] for m in response.json()["messages"]]


async def test_batches_stop_at_the_byte_cap_and_resume_after_it(
    capped: httpx.AsyncClient,
) -> None:
    producer_id = await register_producer(capped, "t")
    consumer_id = await register_consumer(capped, "t")
    messages = [f"{n}{BODY}"[: len(BODY)] for n in range(10)]
    response = await capped.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer_id, "messages": messages}
    )
    assert response.status_code == 200, response.text

    # Three bodies (900 bytes) fit under 1,000; a fourth would pass it.
    assert await consume_batch(capped, consumer_id) == [0, 1, 2]
    size = await capped.get("/size", params={"topic": "t", "consumer_id": consumer_id})
    assert size.json()["size"] == 7  # the offset moved past what was returned, no further
    assert await consume_batch(capped, consumer_id) == [3, 4, 5]
    assert await consume_batch(capped, consumer_id) == [6, 7, 8]
    assert await consume_batch(capped, consumer_id) == [9]
    assert await consume_batch(capped, consumer_id) == []


async def test_a_message_larger_than_the_cap_is_delivered_alone(
    capped: httpx.AsyncClient,
) -> None:
    producer_id = await register_producer(capped, "t")
    consumer_id = await register_consumer(capped, "t")
    big, small = "b" * (3 * CAP), "s"
    for body in (big, small, big):
        response = await capped.post(
            "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": body}
        )
        assert response.status_code == 200, response.text
    assert await consume_batch(capped, consumer_id) == [0]
    assert await consume_batch(capped, consumer_id) == [1]  # the next big one waits
    assert await consume_batch(capped, consumer_id) == [2]
