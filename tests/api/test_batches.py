"""Batch produce, batch consume and long polling through the HTTP API."""

import asyncio

import httpx
import pytest

from app.service import QueueService
from tests.api.helpers import assert_failure, drain, register_consumer, register_producer


async def produce_batch(
    client: httpx.AsyncClient, topic: str, producer_id: int, messages: list[object]
) -> httpx.Response:
    return await client.post(
        "/producer/produce", json={"topic": topic, "producer_id": producer_id, "messages": messages}
    )


async def test_batch_produce_returns_offset_range(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    first = await produce_batch(client, "t", producer_id, ["a", "b", "c"])
    assert first.json() == {"status": "success", "offsets": [0, 2]}
    second = await produce_batch(client, "t", producer_id, ["d"])
    assert second.json() == {"status": "success", "offsets": [3, 3]}
    assert await drain(client, "t", consumer_id) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("bad", ["", 7, None, "nul\x00"])
async def test_batch_with_one_invalid_message_stores_nothing(
    client: httpx.AsyncClient, bad: object
) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await produce_batch(client, "t", producer_id, ["ok", bad, "ok too"])
    assert_failure(response, 422, "messages.1")
    assert await drain(client, "t", consumer_id) == []


async def test_batch_with_one_oversize_message_stores_nothing(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await produce_batch(client, "t", producer_id, ["ok", "x" * (1024 * 1024 + 1)])
    assert_failure(response, 413, "limit")
    assert await drain(client, "t", consumer_id) == []


async def test_batch_limits(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    assert_failure(await produce_batch(client, "t", producer_id, []), 422, "messages")
    too_many = await produce_batch(client, "t", producer_id, ["m"] * 1001)
    assert_failure(too_many, 413, "1001", "1000")
    full = await produce_batch(client, "t", producer_id, ["m"] * 1000)
    assert full.json()["offsets"] == [0, 999]
    size = await client.get("/size", params={"topic": "t", "consumer_id": consumer_id})
    assert size.json()["size"] == 1000


async def test_message_and_messages_together_is_422(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    response = await client.post(
        "/producer/produce",
        json={"topic": "t", "producer_id": producer_id, "message": "a", "messages": ["b"]},
    )
    assert_failure(response, 422, "exactly one")


async def test_batch_consume(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    await produce_batch(client, "t", producer_id, [f"m{i}" for i in range(5)])
    params = {"topic": "t", "consumer_id": consumer_id, "max_messages": 3}
    first = (await client.get("/consumer/consume", params=params)).json()
    assert first["status"] == "success"
    assert [(m["offset"], m["message"]) for m in first["messages"]] == [
        (0, "m0"),
        (1, "m1"),
        (2, "m2"),
    ]
    assert all(m["produced_at"] for m in first["messages"])
    rest = (await client.get("/consumer/consume", params=params)).json()["messages"]
    assert [m["message"] for m in rest] == ["m3", "m4"]
    empty = (await client.get("/consumer/consume", params=params)).json()
    assert empty == {"status": "success", "messages": []}


@pytest.mark.parametrize(
    "extra",
    [
        {"max_messages": 0},
        {"max_messages": 1001},
        {"max_messages": "x"},
        {"wait_ms": -1},
        {"wait_ms": 30_001},
        {"wait_ms": "soon"},
    ],
)
async def test_consume_bounds_are_422(client: httpx.AsyncClient, extra: dict[str, object]) -> None:
    await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await client.get(
        "/consumer/consume", params={"topic": "t", "consumer_id": consumer_id, **extra}
    )
    assert_failure(response, 422, next(iter(extra)))


async def test_wait_ms_timeout_returns_empty(client: httpx.AsyncClient) -> None:
    await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    params = {"topic": "t", "consumer_id": consumer_id, "wait_ms": 50}
    single = await client.get("/consumer/consume", params=params)
    assert single.json() == {"status": "failure", "message": "no new messages"}
    batch = await client.get("/consumer/consume", params={**params, "max_messages": 10})
    assert batch.json() == {"status": "success", "messages": []}


async def test_long_poll_over_http_wakes_on_produce(client: httpx.AsyncClient, app: object) -> None:
    service: QueueService = app.state.service  # type: ignore[attr-defined]
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    poll = asyncio.create_task(
        client.get(
            "/consumer/consume",
            params={"topic": "t", "consumer_id": consumer_id, "wait_ms": 20_000},
        )
    )
    async with asyncio.timeout(5):
        while service.wakeups.waiting < 1:
            await asyncio.sleep(0)
    await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": "ping"}
    )
    async with asyncio.timeout(5):  # the poll would otherwise hold for 20 s
        response = await poll
    assert response.json()["message"] == "ping"
