"""Set-up calls to the server under test: ids and bulk filling.

These are not timed; the timed load comes from wrk (``bench/wrk.py``) and ``bench/e2e.py``.
"""

import asyncio
import json

import httpx


def register_producer(url: str, topic: str) -> int:
    response = httpx.post(url + "/producer/register", json={"topic": topic}, timeout=10)
    response.raise_for_status()
    return int(response.json()["producer_id"])


def register_consumers(url: str, topic: str, count: int) -> list[int]:
    with httpx.Client(base_url=url, timeout=10) as client:
        ids = []
        for _ in range(count):
            response = client.post("/consumer/register", json={"topic": topic})
            response.raise_for_status()
            ids.append(int(response.json()["consumer_id"]))
        return ids


def create_group(url: str, topic: str, group: str) -> None:
    """A consumer group on ``topic`` that starts at its oldest message."""
    path = f"{url}/topics/{topic}/groups/{group}"
    httpx.put(path, json={"start": "earliest"}, timeout=10).raise_for_status()


def batch_body(topic: str, producer_id: int, *, count: int, size: int) -> bytes:
    message = "x" * size
    return json.dumps(
        {"topic": topic, "producer_id": producer_id, "messages": [message] * count}
    ).encode()


def fill(url: str, topic: str, producer_id: int, *, total: int, batch: int, size: int) -> None:
    """Produce ``total`` messages in batches from a few concurrent clients, fast."""
    if total % batch:
        raise ValueError(f"{total} messages are not a whole number of {batch}-message batches")
    body = batch_body(topic, producer_id, count=batch, size=size)
    requests = total // batch

    async def run() -> None:
        queue = iter(range(requests))
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:

            async def worker() -> None:
                for _ in queue:
                    response = await client.post(
                        "/producer/produce",
                        content=body,
                        headers={"content-type": "application/json"},
                    )
                    response.raise_for_status()

            await asyncio.gather(*(worker() for _ in range(4)))

    asyncio.run(run())
