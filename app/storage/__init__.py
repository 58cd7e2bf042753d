"""All SQL lives here; nothing in this package knows about HTTP."""

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.groups import GroupRepository
from app.storage.groups_postgres import PostgresGroupRepository
from app.storage.postgres import PostgresRepository
from app.storage.repository import QueueRepository


def create_repository(engine: AsyncEngine, notify_tag: str = "") -> QueueRepository:
    """The repository for the engine's backend, chosen once: PostgreSQL gets the prepared
    hot paths, anything else the portable SQL."""
    if engine.dialect.name == "postgresql":
        return PostgresRepository(engine, notify_tag)
    return QueueRepository(engine)


def create_group_repository(
    engine: AsyncEngine, notify_tag: str = "", clock: Callable[[], int] | None = None
) -> GroupRepository:
    """The consumer-group repository for the engine's backend, chosen the same way;
    ``clock`` (epoch ms) replaces the database's, for tests that move time by hand."""
    if engine.dialect.name == "postgresql":
        return PostgresGroupRepository(engine, notify_tag, clock)
    return GroupRepository(engine, clock)


__all__ = ["GroupRepository", "QueueRepository", "create_group_repository", "create_repository"]
