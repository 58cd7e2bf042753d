"""GET and DELETE /topics/{name}: what an operator sees of a topic, and removing one."""

import httpx
import pytest

from tests.api.helpers import (
    assert_failure,
    consume,
    create_topic,
    drain,
    produce,
    register_consumer,
    register_producer,
)


async def test_describe_topic_shows_length_producers_and_consumer_lag(
    client: httpx.AsyncClient,
) -> None:
    first_producer = await register_producer(client, "orders")
    second_producer = await register_producer(client, "orders")
    behind = await register_consumer(client, "orders")
    caught_up = await register_consumer(client, "orders")
    for i in range(4):
        await produce(client, "orders", first_producer, f"m{i}")
    await consume(client, "orders", behind)
    await drain(client, "orders", caught_up)

    response = await client.get("/topics/orders")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert body["topic"] == "orders"
    assert (body["length"], body["first_offset"], body["next_offset"]) == (4, 0, 4)
    assert (body["retention_messages"], body["retention_ms"]) == (None, None)
    assert body["created_at"]
    # Listed in registration order, which SQLite's clock keeps only to the second.
    assert sorted(body["producers"]) == sorted([first_producer, second_producer])
    assert sorted(body["consumers"], key=lambda c: c["offset"]) == [
        {"consumer_id": behind, "offset": 1, "lag": 3},
        {"consumer_id": caught_up, "offset": 4, "lag": 0},
    ]


async def test_describe_reports_retention_set_at_creation(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/topics", json={"topic_name": "audit", "retention_messages": 100, "retention_ms": 60000}
    )
    assert response.status_code == 200, response.text
    body = (await client.get("/topics/audit")).json()
    assert (body["retention_messages"], body["retention_ms"]) == (100, 60000)
    assert (body["length"], body["producers"], body["consumers"]) == (0, [], [])


@pytest.mark.parametrize(
    "limits",
    [
        {"retention_messages": 0},
        {"retention_ms": -5},
        {"retention_ms": "soon"},
        {"retention_messages": 2**63},
        {"retention_ms": 10**17},
    ],
)
async def test_bad_retention_is_422_and_creates_nothing(
    client: httpx.AsyncClient, limits: dict[str, object]
) -> None:
    response = await client.post("/topics", json={"topic_name": "audit", **limits})
    assert_failure(response, 422, next(iter(limits)))
    assert (await client.get("/topics")).json()["topics"] == []


async def test_describe_missing_topic_is_404(client: httpx.AsyncClient) -> None:
    assert_failure(await client.get("/topics/ghost"), 404, "ghost", "does not exist")


async def test_describe_bad_name_is_422(client: httpx.AsyncClient) -> None:
    assert_failure(await client.get("/topics/bad;name"), 422)


async def test_delete_removes_topic_messages_producers_and_consumers(
    client: httpx.AsyncClient,
) -> None:
    producer_id = await register_producer(client, "doomed")
    consumer_id = await register_consumer(client, "doomed")
    keeper = await register_producer(client, "kept")
    for i in range(3):
        await produce(client, "doomed", producer_id, f"m{i}")
    await produce(client, "kept", keeper, "stays")

    response = await client.delete("/topics/doomed")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "success", "message": "Topic 'doomed' deleted"},
    )
    assert (await client.get("/topics")).json()["topics"] == ["kept"]
    assert_failure(await client.get("/topics/doomed"), 404)

    # A new topic of the same name starts empty; the old ids mean nothing any more.
    await create_topic(client, "doomed")
    assert (await client.get("/topics/doomed")).json()["next_offset"] == 0
    old_produce = await client.post(
        "/producer/produce", json={"topic": "doomed", "producer_id": producer_id, "message": "x"}
    )
    assert_failure(old_produce, 404, str(producer_id))
    old_consume = await client.get(
        "/consumer/consume", params={"topic": "doomed", "consumer_id": consumer_id}
    )
    assert_failure(old_consume, 404, str(consumer_id))
    fresh = await register_consumer(client, "doomed")
    assert await drain(client, "doomed", fresh) == []
    assert (await client.get("/topics/kept")).json()["length"] == 1


async def test_delete_missing_topic_is_404(client: httpx.AsyncClient) -> None:
    await create_topic(client, "once")
    assert (await client.delete("/topics/once")).status_code == 200
    assert_failure(await client.delete("/topics/once"), 404, "once")
