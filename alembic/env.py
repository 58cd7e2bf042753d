"""Alembic environment: migrates the server's database, on PostgreSQL or SQLite.

The server passes its own connection in ``config.attributes["connection"]`` when it
migrates on start-up; the ``alembic`` command line builds an engine from ``LOGQUEUE_*``.
"""

import asyncio
import logging.config

from sqlalchemy import text
from sqlalchemy.engine import Connection

from alembic import context
from app.database import create_engine
from app.models import Base
from app.settings import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

# Any fixed key works; it only has to be the same in every server process.
MIGRATION_LOCK_KEY = 7_302_113_541


def run_migrations(connection: Connection) -> None:
    """Serialise concurrent start-ups (several workers) on PostgreSQL with an advisory lock."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(Settings())
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
        await connection.commit()
    await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        context.configure(url=Settings().database_url, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


main()
