"""All SQL lives here; nothing in this package knows about HTTP."""

from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.postgres import PostgresRepository
from app.storage.repository import QueueRepository


def create_repository(engine: AsyncEngine, notify_tag: str = "") -> QueueRepository:
    """The repository for the engine's backend, chosen once: PostgreSQL gets the prepared
    hot paths, anything else the portable SQL."""
    if engine.dialect.name == "postgresql":
        return PostgresRepository(engine, notify_tag)
    return QueueRepository(engine)


__all__ = ["QueueRepository", "create_repository"]
