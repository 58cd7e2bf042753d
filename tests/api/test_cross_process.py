"""Two server processes on one PostgreSQL: a long poll in one is woken by a produce (or the
topic's deletion) in the other (LISTEN/NOTIFY), and offsets stay shared."""

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.api.helpers import register_consumer, register_producer
from tests.live_server import LiveServer

pytestmark = pytest.mark.postgres_only


async def parked_poll(
    client: httpx.AsyncClient, app: FastAPI, topic: str
) -> "asyncio.Task[httpx.Response]":
    """A new consumer's 20 s long poll on the in-process app, once it is parked waiting."""
    consumer_id = await register_consumer(client, topic)
    poll = asyncio.create_task(
        client.get(
            "/consumer/consume",
            params={"topic": topic, "consumer_id": consumer_id, "wait_ms": 20_000},
        )
    )
    async with asyncio.timeout(5):
        while app.state.service.wakeups.waiting < 1:
            await asyncio.sleep(0)
    return poll


async def test_long_poll_woken_by_produce_in_another_process(
    live_server: LiveServer, client: httpx.AsyncClient, app: FastAPI
) -> None:
    topic = f"xproc-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=live_server.url) as other:
        producer_id = await register_producer(other, topic)
        poll = await parked_poll(client, app, topic)
        sent = await other.post(
            "/producer/produce",
            json={"topic": topic, "producer_id": producer_id, "message": "from afar"},
        )
        assert sent.json()["offset"] == 0
        async with asyncio.timeout(5):  # only a cross-process wake-up answers before 20 s
            response = await poll
    assert response.json()["message"] == "from afar"


async def test_long_poll_ends_404_when_another_process_deletes_its_topic(
    live_server: LiveServer, client: httpx.AsyncClient, app: FastAPI
) -> None:
    topic = f"xproc-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=live_server.url) as other:
        await register_producer(other, topic)  # creates the topic
        poll = await parked_poll(client, app, topic)
        (await other.delete(f"/topics/{topic}")).raise_for_status()
        async with asyncio.timeout(5):  # not at the end of its 20 s
            response = await poll
    assert response.status_code == 404
    assert response.json()["error"] == "topic_not_found"


async def test_two_processes_share_offsets(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    topic = f"shared-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=live_server.url) as other:
        here = await register_producer(client, topic)
        there = await register_producer(other, topic)

        async def send(http: httpx.AsyncClient, producer_id: int, tag: str) -> list[int]:
            offsets = []
            for i in range(50):
                response = await http.post(
                    "/producer/produce",
                    json={"topic": topic, "producer_id": producer_id, "message": f"{tag}{i}"},
                )
                offsets.append(response.json()["offset"])
            return offsets

        results = await asyncio.gather(
            *(send(client, here, f"a{n}-") for n in range(4)),
            *(send(other, there, f"b{n}-") for n in range(4)),
        )
    assert sorted(o for r in results for o in r) == list(range(400))
