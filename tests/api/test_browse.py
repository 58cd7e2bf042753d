"""GET /topics/{topic}/messages: pages of the log, newest first, read-only."""

from datetime import datetime, timedelta

import httpx

from tests.api.helpers import assert_failure, produce, register_consumer, register_producer


async def fill(client: httpx.AsyncClient, topic: str, count: int) -> None:
    producer = await register_producer(client, topic)
    for i in range(count):
        await produce(client, topic, producer, f"m{i}")


def offsets(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [m["offset"] for m in response.json()["messages"]]


async def test_pages_newest_first_until_the_oldest(client: httpx.AsyncClient) -> None:
    await fill(client, "t", 7)
    consumer = await register_consumer(client, "t")
    first = await client.get("/topics/t/messages", params={"limit": 3})
    assert offsets(first) == [6, 5, 4]
    body = first.json()
    assert (body["first_offset"], body["next_offset"], body["older"]) == (0, 7, 4)
    assert body["messages"][0]["message"] == "m6"
    second = await client.get("/topics/t/messages", params={"limit": 3, "before": 4})
    assert offsets(second) == [3, 2, 1]
    last = await client.get("/topics/t/messages", params={"limit": 3, "before": 1})
    assert offsets(last) == [0]
    assert last.json()["older"] is None
    size = await client.get("/size", params={"topic": "t", "consumer_id": consumer})
    assert size.json()["size"] == 7  # browsing moved no consumer


async def test_jump_to_an_offset_past_the_end_and_to_a_time(client: httpx.AsyncClient) -> None:
    await fill(client, "t", 5)
    beyond = await client.get("/topics/t/messages", params={"before": 99, "limit": 2})
    assert offsets(beyond) == [4, 3]
    stamps = [
        m["produced_at"]
        for m in (await client.get("/topics/t/messages", params={"limit": 5})).json()["messages"]
    ]
    third = datetime.fromisoformat(stamps[::-1][2])  # offset 2's time
    at = await client.get("/topics/t/messages", params={"time": third.isoformat(), "limit": 2})
    assert offsets(at)[0] <= 2  # equal timestamps may share a moment with earlier offsets
    future = (third + timedelta(days=1)).isoformat()
    assert offsets(await client.get("/topics/t/messages", params={"time": future})) == [
        4,
        3,
        2,
        1,
        0,
    ]
    past = (third - timedelta(days=1)).isoformat()
    assert offsets(await client.get("/topics/t/messages", params={"time": past})) == [0]
    both = await client.get("/topics/t/messages", params={"time": future, "before": 3})
    assert offsets(both) == [2, 1, 0]  # both bounds apply


async def test_refusals(client: httpx.AsyncClient) -> None:
    await fill(client, "t", 1)
    assert_failure(await client.get("/topics/nope/messages"), 404, "does not exist")
    naive = await client.get("/topics/t/messages", params={"time": "2026-01-01T00:00:00"})
    assert_failure(naive, 422, "time")
    assert_failure(await client.get("/topics/t/messages", params={"limit": 0}), 422)
