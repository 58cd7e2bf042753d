"""All SQL lives here; nothing in this package knows about HTTP."""

from collections.abc import Callable

from app.storage.groups import GroupRepository
from app.storage.groups_postgres import PostgresGroupRepository
from app.storage.pools import Pools
from app.storage.postgres import PostgresRepository
from app.storage.repository import QueueRepository


def create_repository(pools: Pools, notify_tag: str = "") -> QueueRepository:
    """The repository for the backend, chosen once: PostgreSQL (which has the asyncpg pool)
    gets the prepared hot paths, anything else the portable SQL."""
    if pools.driver is not None:
        return PostgresRepository(pools.engine, pools.driver, notify_tag)
    return QueueRepository(pools.engine)


def create_group_repository(
    pools: Pools, notify_tag: str = "", clock: Callable[[], int] | None = None
) -> GroupRepository:
    """The consumer-group repository for the backend, chosen the same way; ``clock``
    (epoch ms) replaces the database's, for tests that move time by hand."""
    if pools.driver is not None:
        return PostgresGroupRepository(pools.engine, pools.driver, notify_tag, clock)
    return GroupRepository(pools.engine, clock)


__all__ = [
    "GroupRepository",
    "Pools",
    "QueueRepository",
    "create_group_repository",
    "create_repository",
]
