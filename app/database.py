"""Engine construction and start-up migrations for both backends."""

from typing import Any

from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from alembic import command
from app.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    """PostgreSQL gets a real pool; SQLite gets one connection.

    SQLite allows one writer at a time, so a single pooled connection serialises this
    process's transactions instead of making them fail with "database is locked"; it
    also keeps a ``:memory:`` database alive for the life of the engine.
    """
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url, pool_size=1, max_overflow=0)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    # No pre-ping (a round trip per request): a connection lost to a database restart
    # fails one request with 503, and SQLAlchemy then replaces the whole pool.
    return create_async_engine(
        settings.database_url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        connect_args={"timeout": settings.connect_timeout},
    )


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
