"""Database URLs: libpq's multi-host form is read as SQLAlchemy's asyncpg dialect reads hosts;
``sqlite+aiosqlite:///:memory:`` is a working throw-away queue, as the README promises."""

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.database import database_url, driver_connect_args
from app.main import create_app
from app.settings import Settings

QUERY_FORM = (
    "postgresql+asyncpg://logqueue:logqueue@/logqueue"
    "?host=127.0.0.1:5441&host=127.0.0.1:5442&target_session_attrs=read-write"
)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://logqueue:logqueue@127.0.0.1:5441,127.0.0.1:5442/logqueue"
        "?target_session_attrs=read-write",
        QUERY_FORM,
    ],
)
def test_multi_host_url_connects_to_every_host_and_only_to_the_primary(url: str) -> None:
    assert driver_connect_args(url) == {
        "user": "logqueue",
        "password": "logqueue",
        "database": "logqueue",
        "host": ["127.0.0.1", "127.0.0.1"],
        "port": [5441, 5442],
        "target_session_attrs": "read-write",
    }


def test_libpq_form_is_rewritten_into_the_query_form() -> None:
    libpq = "postgresql+asyncpg://logqueue:logqueue@127.0.0.1:5441,127.0.0.1:5442/logqueue"
    assert database_url(libpq + "?target_session_attrs=read-write") == database_url(QUERY_FORM)


def test_host_without_port_gets_postgresqls_and_password_stays_encoded() -> None:
    parsed = database_url("postgresql+asyncpg://u:p%40ss@db1,db2:6432/queue")
    assert parsed.password == "p@ss"
    assert parsed.database == "queue"
    assert parsed.query == {"host": ("db1:5432", "db2:6432")}


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://logqueue:logqueue@127.0.0.1:5432/logqueue",
        "sqlite+aiosqlite:///./logqueue.db",
        "sqlite+aiosqlite:///:memory:",
    ],
)
def test_single_host_and_sqlite_urls_are_unchanged(url: str) -> None:
    assert database_url(url) == make_url(url)


async def test_in_memory_sqlite_serves_a_whole_round_trip() -> None:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://memory") as http:
            producer = await http.post("/producer/register", json={"topic": "scratch"})
            consumer = await http.post("/consumer/register", json={"topic": "scratch"})
            produce = {"topic": "scratch", "producer_id": producer.json()["producer_id"]}
            for body in ("one", "two"):
                sent = await http.post("/producer/produce", json={**produce, "message": body})
                assert sent.status_code == 200, sent.text
            read = {"topic": "scratch", "consumer_id": consumer.json()["consumer_id"]}
            got = await http.get("/consumer/consume", params={**read, "max_messages": 10})
    assert [m["message"] for m in got.json()["messages"]] == ["one", "two"]
