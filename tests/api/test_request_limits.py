"""Bodies over LOGQUEUE_MAX_REQUEST_BYTES are refused with 413 and leave nothing behind."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings
from tests.api.helpers import assert_failure, drain, register_consumer, register_producer

LIMIT = 4096


@pytest.fixture
async def small_client(empty_db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(empty_db.model_copy(update={"max_request_bytes": LIMIT}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://small") as client:
            yield client


async def test_declared_length_over_limit_is_413(small_client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(small_client, "t")
    consumer_id = await register_consumer(small_client, "t")
    response = await small_client.post(
        "/producer/produce",
        json={"topic": "t", "producer_id": producer_id, "message": "x" * LIMIT},
    )
    assert_failure(response, 413, str(LIMIT))
    assert await drain(small_client, "t", consumer_id) == []


async def test_chunked_body_over_limit_is_413(small_client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(small_client, "t")
    consumer_id = await register_consumer(small_client, "t")

    async def chunks() -> AsyncIterator[bytes]:
        yield f'{{"topic": "t", "producer_id": {producer_id}, "message": "'.encode()
        for _ in range(10):
            yield b"y" * 1024
        yield b'"}'

    response = await small_client.post(
        "/producer/produce", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_failure(response, 413)
    assert await drain(small_client, "t", consumer_id) == []


async def test_chunked_body_under_limit_is_served(small_client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(small_client, "t")
    consumer_id = await register_consumer(small_client, "t")

    async def chunks() -> AsyncIterator[bytes]:
        yield f'{{"topic": "t", "producer_id": {producer_id}, '.encode()
        yield b'"message": "small"}'

    response = await small_client.post(
        "/producer/produce", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.json() == {"status": "success", "offset": 0}
    assert await drain(small_client, "t", consumer_id) == ["small"]
