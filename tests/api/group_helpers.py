"""Short calls for consumer-group tests through the public HTTP API."""

from typing import Any

import httpx

from tests.api.helpers import create_topic, register_producer


async def topic_with_messages(client: httpx.AsyncClient, topic: str, count: int) -> int:
    """A topic holding ``m0`` .. ``m{count-1}`` at offsets 0 .. count-1; returns the producer."""
    await create_topic(client, topic)
    producer_id = await register_producer(client, topic)
    if count:
        await produce_many(client, topic, producer_id, [f"m{i}" for i in range(count)])
    return producer_id


async def produce_many(
    client: httpx.AsyncClient, topic: str, producer_id: int, bodies: list[str]
) -> None:
    for first in range(0, len(bodies), 1000):
        response = await client.post(
            "/producer/produce",
            json={
                "topic": topic,
                "producer_id": producer_id,
                "messages": bodies[first : first + 1000],
            },
        )
        assert response.status_code == 200, response.text


async def put_group(
    client: httpx.AsyncClient, topic: str, group: str, **body: Any
) -> dict[str, Any]:
    response = await client.put(f"/topics/{topic}/groups/{group}", json=body)
    assert response.status_code == 200, response.text
    details: dict[str, Any] = response.json()["group"]
    return details


async def details(client: httpx.AsyncClient, topic: str, group: str) -> dict[str, Any]:
    response = await client.get(f"/topics/{topic}/groups/{group}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["group"]
    return found


async def fetch(
    client: httpx.AsyncClient,
    topic: str,
    group: str,
    max_messages: int = 1,
    wait_ms: int = 0,
    member: str = "m1",
) -> dict[str, Any]:
    response = await client.post(
        f"/topics/{topic}/groups/{group}/fetch",
        json={"member": member, "max_messages": max_messages, "wait_ms": wait_ms},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def offsets(fetched: dict[str, Any]) -> list[int]:
    return [m["offset"] for m in fetched["messages"]]


async def lease_call(
    client: httpx.AsyncClient, topic: str, group: str, verb: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/topics/{topic}/groups/{group}/{verb}", json=body)
