"""With the database unreachable, requests fail fast with 503 and Retry-After."""

from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.live_server import free_port


@pytest.fixture
async def client_without_database() -> AsyncIterator[httpx.AsyncClient]:
    # A port nothing listens on: connections are refused at once, as when PostgreSQL is down.
    settings = Settings(
        database_url=f"postgresql+asyncpg://logqueue:logqueue@127.0.0.1:{free_port()}/none",
        migrate_on_start=False,
        connect_timeout=0.5,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://down") as client:
            yield client


async def test_status_reports_database_down(client_without_database: httpx.AsyncClient) -> None:
    response = await client_without_database.get("/status")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["status"] == "failure"


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/topics", None),
        ("POST", "/topics", {"topic_name": "t"}),
        ("POST", "/producer/register", {"topic": "t"}),
        ("POST", "/producer/produce", {"topic": "t", "producer_id": 1, "message": "m"}),
        ("GET", "/consumer/consume?topic=t&consumer_id=1", None),
        ("GET", "/size?topic=t&consumer_id=1", None),
    ],
)
async def test_requests_fail_with_503(
    client_without_database: httpx.AsyncClient, method: str, path: str, payload: object
) -> None:
    response = await client_without_database.request(method, path, json=payload)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.json()["status"] == "failure"
    assert "Database unavailable" in response.json()["message"]
