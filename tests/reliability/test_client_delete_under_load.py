"""Deleting producers and consumers while they produce and consume: every request ends in
a clean 200 or 404 (no 500, no deadlock), and every acknowledged message stays in the log."""

import asyncio
from collections import Counter

import httpx

from tests.api.helpers import drain, register_consumer, register_producer

PRODUCERS = 6
CONSUMERS = 6
ACKS_BEFORE_DELETE = 30


async def produce_until_gone(
    client: httpx.AsyncClient, producer_id: int, sequenced: bool, acked: list[str]
) -> int:
    """Produces until one is refused; returns the refusal's status."""
    sequence = 0
    while True:
        body = f"{producer_id}:{sequence}"
        payload: dict[str, object] = {"topic": "t", "producer_id": producer_id, "message": body}
        if sequenced:
            payload["sequence"] = sequence
        response = await client.post("/producer/produce", json=payload)
        if response.status_code != 200:
            return response.status_code
        acked.append(body)
        sequence += 1


async def consume_until_gone(client: httpx.AsyncClient, consumer_id: int) -> int:
    params = {"topic": "t", "consumer_id": consumer_id, "max_messages": 10, "wait_ms": 50}
    while True:
        response = await client.get("/consumer/consume", params=params)
        if response.status_code != 200:
            return response.status_code


async def test_delete_while_in_use(client: httpx.AsyncClient) -> None:
    producers = [await register_producer(client, "t") for _ in range(PRODUCERS)]
    consumers = [await register_consumer(client, "t") for _ in range(CONSUMERS)]
    acked: list[str] = []
    users = [
        *(
            asyncio.create_task(produce_until_gone(client, p, i % 2 == 0, acked))
            for i, p in enumerate(producers)
        ),
        *(asyncio.create_task(consume_until_gone(client, c)) for c in consumers),
    ]
    try:
        async with asyncio.timeout(60):
            while len(acked) < ACKS_BEFORE_DELETE:  # produces are flowing
                await asyncio.wait(users, return_when=asyncio.FIRST_COMPLETED, timeout=0.01)
            deletes = await asyncio.gather(
                *(client.delete(f"/producer/{p}") for p in producers),
                *(client.delete(f"/consumer/{c}") for c in consumers),
            )
            ended = await asyncio.gather(*users)
    finally:
        for user in users:
            user.cancel()
    assert Counter(d.status_code for d in deletes) == {200: PRODUCERS + CONSUMERS}
    assert Counter(ended) == {404: PRODUCERS + CONSUMERS}
    stored = await drain(client, "t", await register_consumer(client, "t"))
    assert set(acked) <= set(stored)
    assert len(stored) == len(set(stored))
