"""Shared fixtures: every database test runs once on PostgreSQL and once on SQLite.

Each test session owns its databases, so any number of suites can run on one machine at
once: a PostgreSQL database of its own (named after LOGQUEUE_TEST_DATABASE_URL's, plus the
start time and a random part; migrated once, dropped at the end) and SQLite files under
pytest's per-run temporary directory. If PostgreSQL does not answer, its half of the suite
is skipped loudly, or fails when LOGQUEUE_REQUIRE_POSTGRES=1 (as in CI).
"""

import asyncio
import contextlib
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from app.database import create_engine, migrate
from app.main import create_app
from app.settings import Settings
from tests.live_server import LiveServer, start_server

DEFAULT_PG_URL = "postgresql+asyncpg://logqueue:logqueue@127.0.0.1:5432/logqueue_test"
TABLES = ("group_ranges", "consumer_groups", "messages", "consumers", "producers", "topics")
# A session that ended without dropping its database (SIGKILL, power cut) left it behind;
# one whose name says it started this long ago is not running any more.
STALE_AFTER_SECONDS = 6 * 3600
SLOW_DIRECTORIES = ("reliability", "deploy", "bench")


def _base_url() -> URL:
    """Server and credentials for the per-session databases; its name is their prefix."""
    return make_url(os.environ.get("LOGQUEUE_TEST_DATABASE_URL", DEFAULT_PG_URL))


def _require_postgres() -> bool:
    return os.environ.get("LOGQUEUE_REQUIRE_POSTGRES") == "1"


def session_database_name(prefix: str) -> str:
    """``<prefix>_<unix start time>_<random>``: unique, and its age is readable later."""
    return f"{prefix}_{int(time.time())}_{secrets.token_hex(4)}"


def _maintenance_dsn(url: URL) -> str:
    maintenance = url.set(drivername="postgresql", database="postgres")
    return maintenance.render_as_string(hide_password=False)


async def _create_pg_database(url: URL) -> None:
    """Create the session's database, after dropping stale ones that earlier runs left."""
    conn = await asyncpg.connect(_maintenance_dsn(url), timeout=5)
    try:
        await _drop_stale_databases(conn, prefix=_base_url().database or "")
        await conn.execute(f'CREATE DATABASE "{url.database}"')
    finally:
        await conn.close()


async def _drop_stale_databases(conn: asyncpg.Connection, prefix: str) -> None:
    stamped = re.compile(rf"{re.escape(prefix)}.*_(\d{{10}})_[0-9a-f]{{8}}(_bench)?")
    cutoff = time.time() - STALE_AFTER_SECONDS
    for row in await conn.fetch("SELECT datname FROM pg_database"):
        name = row["datname"]
        match = stamped.fullmatch(name)
        if match and int(match.group(1)) < cutoff:
            # Still in use, or not ours to drop: leave it for its owner.
            with contextlib.suppress(asyncpg.PostgresError):
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


async def drop_pg_database(url: URL) -> None:
    """Drop a database a session made, cutting off any connection a stray process kept."""
    conn = await asyncpg.connect(_maintenance_dsn(url), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    try:
        await migrate(engine, settings)
    finally:
        await engine.dispose()


def pytest_itemcollected(item: pytest.Item) -> None:
    """Reliability, deploy and bench tests are ``slow``: real processes, real failures.

    ``make test PYTEST_ARGS="-m 'not slow'"`` leaves them out; ``make test`` and CI run all.
    """
    tests = Path(__file__).parent
    if any(item.path.is_relative_to(tests / name) for name in SLOW_DIRECTORIES):
        item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """This session's own PostgreSQL database, migrated; dropped when the session ends
    (also after a failure or Ctrl-C)."""
    url = _base_url()
    url = url.set(database=session_database_name(url.database or "logqueue_test"))
    try:
        asyncio.run(_create_pg_database(url))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = (
            f"PostgreSQL at {url.render_as_string()} is not reachable ({exc!r}); "
            "run scripts/dev-postgres.sh"
        )
        if _require_postgres():
            pytest.fail(reason + " and LOGQUEUE_REQUIRE_POSTGRES=1", pytrace=False)
        pytest.skip("SKIPPING THE POSTGRESQL HALF: " + reason)
    rendered = url.render_as_string(hide_password=False)
    try:
        asyncio.run(_migrate(rendered))
        yield rendered
    finally:
        asyncio.run(drop_pg_database(url))


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_database_url"))
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'logqueue.db'}"
    asyncio.run(_migrate(url))
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
