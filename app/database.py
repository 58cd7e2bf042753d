"""Connection pools and start-up migrations for both backends."""

import re
from typing import Any

from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from alembic import command
from app.settings import Settings
from app.storage.failures import mark_unusable_connections
from app.storage.pools import DriverPool, Pools

# libpq's multi-host form: scheme://[userinfo@]host:port,host:port[/db][?query]
_LIBPQ_MULTIHOST = re.compile(
    r"^(?P<scheme>[^:/?]+://)(?P<userinfo>[^/?]*@)?(?P<hosts>[^@/?]*,[^@/?]*)"
    r"(?P<path>/[^?]*)?(?:\?(?P<query>.*))?$"
)


def database_url(url: str) -> URL:
    """The URL as SQLAlchemy's asyncpg dialect reads several hosts: ``@/db?host=h:p&host=h:p``.

    libpq's ``@h1:p1,h2:p2/db`` is what PostgreSQL users (and Patroni's docs) write, but
    SQLAlchemy cannot parse a comma in the port; it is rewritten into the query form, and
    asyncpg then tries the hosts in order (``target_session_attrs=read-write``: the primary).
    """
    found = _LIBPQ_MULTIHOST.match(url)
    if found is None:
        return make_url(url)
    hosts = [
        f"host={host}" if ":" in host else f"host={host}:5432" for host in found["hosts"].split(",")
    ]
    query = "&".join([*hosts, *([found["query"]] if found["query"] else [])])
    userinfo = found["userinfo"] or ""
    return make_url(f"{found['scheme']}{userinfo}{found['path'] or '/'}?{query}")


def driver_connect_args(url: str) -> dict[str, Any]:
    """``asyncpg.connect`` keywords for a PostgreSQL URL, read as the engine's dialect reads
    them, so a connection made outside the pool goes to the same hosts and to the primary."""
    parsed = database_url(url)
    _args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    return dict(kwargs)


def pool_shares(pool_size: int) -> tuple[int, int]:
    """How PostgreSQL's ``LOGQUEUE_POOL_SIZE`` is split: (SQLAlchemy engine, asyncpg pool).

    The asyncpg pool serves every produce and consume, so it gets three quarters; the
    engine, for registration, topics, the console and background work, the rest. Each gets
    at least one connection, so a pool size of 1 opens 2.
    """
    engine = max(1, pool_size // 4)
    return engine, max(1, pool_size - engine)


async def open_pools(settings: Settings) -> Pools:
    """The engine, and on PostgreSQL the asyncpg pool of the hot paths beside it."""
    engine = create_engine(settings)
    if settings.is_sqlite:
        return Pools(engine)
    driver = await DriverPool.open(
        driver_connect_args(settings.database_url),
        size=pool_shares(settings.pool_size)[1],
        timeout=settings.pool_timeout,
        connect_timeout=settings.connect_timeout,
    )
    return Pools(engine, driver)


def create_engine(settings: Settings) -> AsyncEngine:
    """PostgreSQL gets a real pool (its share of ``pool_size``); SQLite gets one connection.

    SQLite allows one writer at a time, so a single pooled connection serialises this
    process's transactions instead of making them fail with "database is locked"; it
    also keeps a ``:memory:`` database alive for the life of the engine.
    """
    if settings.is_sqlite:
        url = database_url(settings.database_url)
        # Named, because SQLAlchemy would pick a StaticPool (shared, unserialised) for :memory:.
        engine = create_async_engine(
            url,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=settings.pool_timeout,
            hide_parameters=True,
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    # No pre-ping (a round trip per request): a connection lost to a database restart
    # fails one request with 503, and SQLAlchemy then replaces the whole pool.
    engine = create_async_engine(
        database_url(settings.database_url),
        pool_size=pool_shares(settings.pool_size)[0],
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        connect_args={"timeout": settings.connect_timeout},
        # Parameters can hold message bodies: no error message or log line repeats them.
        hide_parameters=True,
    )
    event.listen(engine.sync_engine, "checkout", _drop_pool_if_closed)
    event.listen(engine.sync_engine, "handle_error", mark_unusable_connections)
    return engine


def _drop_pool_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A server that went away (a failover, a restart) closed its sockets, and asyncpg
    has marked the idle connections closed already. Checking that costs no round trip;
    replacing them at checkout, with every other connection to the same old server,
    spares a request the 503 that using one would cost, and the new connection goes to
    whichever host is now the primary."""
    if dbapi_connection.driver_connection.is_closed():
        raise InvalidatePoolError("connection closed by the database server")


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; synchronous=FULL keeps acknowledged writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


async def migrate(engine: AsyncEngine, settings: Settings) -> None:
    """Run ``alembic upgrade head`` on the server's own engine."""

    def upgrade(connection: Connection) -> None:
        config = Config(str(settings.alembic_config))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    if not settings.alembic_config.is_file():
        raise FileNotFoundError(
            f"alembic config {settings.alembic_config} not found; set LOGQUEUE_ALEMBIC_CONFIG"
        )
    async with engine.begin() as connection:
        await connection.run_sync(upgrade)
