"""Shared fixtures: every database test runs once on PostgreSQL and once on SQLite.

PostgreSQL comes from LOGQUEUE_TEST_DATABASE_URL (the database is created if missing).
If it does not answer, its half of the suite is skipped loudly, or fails when
LOGQUEUE_REQUIRE_POSTGRES=1 (as in CI).
"""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.database import create_engine, migrate
from app.main import create_app
from app.models import Base
from app.settings import Settings
from tests.live_server import LiveServer, start_server

DEFAULT_PG_URL = "postgresql+asyncpg://logqueue:logqueue@127.0.0.1:5432/logqueue_test"
TABLES = ("messages", "consumers", "producers", "topics")


def postgres_url() -> str:
    return os.environ.get("LOGQUEUE_TEST_DATABASE_URL", DEFAULT_PG_URL)


def _require_postgres() -> bool:
    return os.environ.get("LOGQUEUE_REQUIRE_POSTGRES") == "1"


async def _ensure_pg_database(url: str) -> None:
    """Connect to the maintenance database and create the test database if it is missing."""
    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
        )
        if not exists:
            await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()


async def _reset_schema(settings: Settings) -> None:
    """Start each session from nothing, then build the schema through the real migrations."""
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await migrate(engine, settings)
    await engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """SQLite serves one process, so multi-process tests run on PostgreSQL only."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        on_sqlite = params is not None and params.params.get("database_url") == "sqlite"
        (drop if on_sqlite and item.get_closest_marker("postgres_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'logqueue.db'}"
    else:
        url = postgres_url()
        try:
            asyncio.run(_ensure_pg_database(url))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            reason = (
                f"PostgreSQL at {make_url(url).render_as_string()} is not reachable ({exc!r}); "
                "run scripts/dev-postgres.sh"
            )
            if _require_postgres():
                pytest.fail(reason + " and LOGQUEUE_REQUIRE_POSTGRES=1", pytrace=False)
            pytest.skip("SKIPPING THE POSTGRESQL HALF: " + reason)
    asyncio.run(_reset_schema(Settings(database_url=url)))
    return url


@pytest.fixture
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, migrate_on_start=False)


async def clear_tables(settings: Settings) -> None:
    engine = create_engine(settings)
    async with engine.begin() as conn:
        for table in TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
    await engine.dispose()


@pytest.fixture
async def empty_db(settings: Settings) -> Settings:
    """Each test starts with no topics; the schema stays."""
    await clear_tables(settings)
    return settings


@pytest.fixture
async def app(empty_db: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(empty_db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://logqueue.test") as c:
        yield c


@pytest.fixture(scope="module")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One real server per module over the session's database (migrations run on start)."""
    asyncio.run(clear_tables(Settings(database_url=database_url)))
    server = start_server(database_url, log_path=tmp_path_factory.mktemp("server") / "log")
    yield server
    server.stop()
