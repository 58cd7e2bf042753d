"""DELETE /producer/{id} and /consumer/{id}: ids can be removed, by their key or an admin."""

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from app.service import QueueService
from app.settings import Settings
from tests.api.helpers import (
    assert_failure,
    consume,
    drain,
    produce,
    register_consumer,
    register_producer,
)
from tests.api.test_auth import ADMIN, ALICE, BOB, bearer, keyed, register, serving
from tests.live_server import LiveServer

LONG_MS = 20_000  # a long poll that would wait this long unless something ends it


async def test_deleted_producer_is_refused_and_its_messages_stay(
    client: httpx.AsyncClient,
) -> None:
    producer = await register_producer(client, "t")
    await produce(client, "t", producer, "kept")
    response = await client.delete(f"/producer/{producer}")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "success", "message": f"Producer {producer} deleted"}
    refused = await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer, "message": "late"}
    )
    assert_failure(refused, 404, str(producer), code="producer_not_found")
    assert_failure(await client.delete(f"/producer/{producer}"), 404, code="producer_not_found")
    assert await drain(client, "t", await register_consumer(client, "t")) == ["kept"]
    details = (await client.get("/topics/t")).json()
    assert producer not in details["producers"]


async def test_deleted_consumer_is_refused(client: httpx.AsyncClient) -> None:
    producer = await register_producer(client, "t")
    consumer = await register_consumer(client, "t")
    await produce(client, "t", producer, "m")
    response = await client.delete(f"/consumer/{consumer}")
    assert response.json() == {"status": "success", "message": f"Consumer {consumer} deleted"}
    params = {"topic": "t", "consumer_id": consumer}
    for path in ("/consumer/consume", "/size"):
        assert_failure(await client.get(path, params=params), 404, code="consumer_not_found")
    assert_failure(await client.delete(f"/consumer/{consumer}"), 404, code="consumer_not_found")
    details = (await client.get("/topics/t")).json()
    assert consumer not in [c["consumer_id"] for c in details["consumers"]]


async def test_unknown_ids_are_not_found(client: httpx.AsyncClient) -> None:
    await register_producer(client, "t")
    assert_failure(await client.delete("/producer/424242"), 404, code="producer_not_found")
    assert_failure(await client.delete("/consumer/424242"), 404, code="consumer_not_found")


async def test_parked_long_poll_of_a_deleted_consumer_answers_404(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    service: QueueService = app.state.service
    await register_producer(client, "t")
    consumer = await register_consumer(client, "t")
    params = {"topic": "t", "consumer_id": consumer, "max_messages": 5}
    polls = [
        asyncio.create_task(client.get("/consumer/consume", params={**params, "wait_ms": LONG_MS}))
        for _ in range(3)
    ]
    async with asyncio.timeout(5):
        while service.wakeups.waiting < 3:  # one waits for a produce, two for its turn
            await asyncio.sleep(0.01)
    assert (await client.delete(f"/consumer/{consumer}")).status_code == 200
    async with asyncio.timeout(5):  # a deadline far below LONG_MS, not a speed claim
        answers = await asyncio.gather(*polls)
    for answer in answers:
        assert_failure(answer, 404, code="consumer_not_found")
    assert service.wakeups.waiting == 0


@pytest.mark.parametrize("role", ["producer", "consumer"])
async def test_only_the_owner_or_an_admin_deletes(empty_db: Settings, role: str) -> None:
    async with serving(keyed(empty_db, f"admin:{ADMIN}", ALICE, BOB)) as client:
        created = await client.post("/topics", json={"topic_name": "t"}, headers=bearer(ADMIN))
        assert created.status_code == 200, created.text
        alices = [await register(client, role, "t", ALICE) for _ in range(2)]
        refused = await client.delete(f"/{role}/{alices[0]}", headers=bearer(BOB))
        assert_failure(refused, 403, "another API key", code="forbidden")
        for client_id, key in zip(alices, (ALICE, ADMIN), strict=True):
            response = await client.delete(f"/{role}/{client_id}", headers=bearer(key))
            assert response.status_code == 200, response.text
        unauthenticated = await client.delete(f"/{role}/{alices[0]}")
        assert_failure(unauthenticated, 401, code="unauthenticated")


async def test_deleting_a_consumer_leaves_the_others(client: httpx.AsyncClient) -> None:
    producer = await register_producer(client, "t")
    doomed, kept = [await register_consumer(client, "t") for _ in range(2)]
    await produce(client, "t", producer, "m")
    assert (await client.delete(f"/consumer/{doomed}")).status_code == 200
    assert (await consume(client, "t", kept))["message"] == "m"


@pytest.mark.postgres_only
async def test_delete_in_another_process_ends_a_parked_long_poll(
    live_server: LiveServer, client: httpx.AsyncClient, app: FastAPI
) -> None:
    service: QueueService = app.state.service
    topic = f"xdel-{uuid.uuid4().hex[:8]}"
    await register_producer(client, topic)
    consumer = await register_consumer(client, topic)
    poll = asyncio.create_task(
        client.get(
            "/consumer/consume",
            params={"topic": topic, "consumer_id": consumer, "wait_ms": LONG_MS},
        )
    )
    async with asyncio.timeout(5):
        while service.wakeups.waiting < 1:
            await asyncio.sleep(0.01)
    async with httpx.AsyncClient(base_url=live_server.url) as other:
        assert (await other.delete(f"/consumer/{consumer}")).status_code == 200
    async with asyncio.timeout(5):  # only the other process's notification answers before 20 s
        answer = await poll
    assert_failure(answer, 404, code="consumer_not_found")
