"""The ORM models and the Alembic migrations describe the same schema."""

from collections.abc import Callable
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from alembic import command
from app.database import create_engine
from app.models import Base
from app.settings import Settings


async def test_models_match_migrations(settings: Settings) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(settings)
    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert differences == []


def to(revision: str, down: bool = False) -> Callable[[Connection], None]:
    """Migrate the connection's database up (or down) to ``revision``."""

    def run(connection: Connection) -> None:
        config = Config(str(Settings().alembic_config))
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


async def test_retention_migration_keeps_data_both_ways(tmp_path: Path) -> None:
    """0003 adds the retention columns to existing topics and can be taken back out."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(to("0002"))
            await conn.execute(text("INSERT INTO topics (name, next_offset) VALUES ('old', 7)"))
            await conn.run_sync(to("0003"))
            row = (
                await conn.execute(
                    text("SELECT next_offset, first_offset, retention_messages FROM topics")
                )
            ).one()
            assert tuple(row) == (7, 0, None)
            await conn.run_sync(to("0002", down=True))
            columns = await conn.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("topics")]
            )
            assert "first_offset" not in columns
            assert (await conn.scalar(text("SELECT next_offset FROM topics"))) == 7
    finally:
        await engine.dispose()


async def insert_two_clients(conn: AsyncConnection) -> None:
    """Topic 1 with producer 11 and consumer 22, in the columns every revision has."""
    await conn.execute(text("INSERT INTO topics (id, name, next_offset) VALUES (1, 't', 0)"))
    await conn.execute(text("INSERT INTO producers (id, topic_id) VALUES (11, 1)"))
    await conn.execute(text("INSERT INTO consumers (id, topic_id) VALUES (22, 1)"))


async def test_owner_migration_keeps_ids_both_ways(tmp_path: Path) -> None:
    """0004 gives existing producers and consumers no owner (admin keys only) and can be
    taken back out without losing them."""
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(to("0003"))
            await insert_two_clients(conn)
            await conn.run_sync(to("0004"))
            for table, client_id in (("producers", 11), ("consumers", 22)):
                row = (await conn.execute(text(f"SELECT id, owner FROM {table}"))).one()
                assert tuple(row) == (client_id, None)
            await conn.run_sync(to("0003", down=True))
            for table, client_id in (("producers", 11), ("consumers", 22)):
                columns = await conn.run_sync(
                    lambda sync, t=table: [c["name"] for c in inspect(sync).get_columns(t)]
                )
                assert "owner" not in columns
                assert (await conn.scalar(text(f"SELECT id FROM {table}"))) == client_id
    finally:
        await engine.dispose()


async def test_last_used_migration_stamps_existing_ids(tmp_path: Path) -> None:
    """0008 counts existing producers and consumers as used at the upgrade (a TTL turned on
    right after it gives them the whole TTL) and can be taken back out."""
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(to("0007"))
            await insert_two_clients(conn)
            await conn.run_sync(to("0008"))
            for table in ("producers", "consumers"):
                stamped = await conn.scalar(text(f"SELECT last_used_at FROM {table}"))
                assert stamped is not None
            await conn.run_sync(to("0007", down=True))
            for table in ("producers", "consumers"):
                columns = await conn.run_sync(
                    lambda sync, t=table: [c["name"] for c in inspect(sync).get_columns(t)]
                )
                assert "last_used_at" not in columns
    finally:
        await engine.dispose()
