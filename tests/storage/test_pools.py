"""The hot paths' asyncpg pool keeps the engine pool's promises: LOGQUEUE_POOL_TIMEOUT bounds
the wait for a connection in use (then 503; opening a new one has LOGQUEUE_CONNECT_TIMEOUT),
a connection the database killed or left unusable is answered 503 and replaced, a failure
worth retrying is a 503 that keeps its connection, and everything else propagates
unchanged."""

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.database import driver_connect_args, open_pools, pool_shares
from app.errors import StorageUnavailable
from app.settings import Settings
from app.storage.pools import DriverPool

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def driver(settings: Settings) -> AsyncIterator[DriverPool]:
    pools = await open_pools(settings.model_copy(update={"pool_size": 1, "pool_timeout": 0.5}))
    assert pools.driver is not None
    try:
        yield pools.driver
    finally:
        await pools.close()


async def backend_pid(driver: DriverPool) -> int:
    async with driver.connection() as connection:
        return int(await connection.fetchval("SELECT pg_backend_pid()"))


def test_pool_size_is_shared_between_the_two_pools() -> None:
    assert pool_shares(20) == (5, 15)
    assert pool_shares(4) == (1, 3)
    assert pool_shares(1) == (1, 1)


async def test_a_checkout_waits_no_longer_than_the_pool_timeout(driver: DriverPool) -> None:
    async with driver.connection():  # the only connection of this pool
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match=r"no database connection within 0\.5 s"):
            async with asyncio.timeout(10), driver.connection():
                pass
        waited = time.monotonic() - started
    assert 0.4 <= waited < 3, waited
    assert await backend_pid(driver) > 0  # free again


async def test_a_connection_killed_under_a_statement_is_503_and_replaced(
    driver: DriverPool, settings: Settings
) -> None:
    killer = await asyncpg.connect(**driver_connect_args(settings.database_url))
    try:
        with pytest.raises(StorageUnavailable):
            async with driver.connection() as connection:
                pid = await connection.fetchval("SELECT pg_backend_pid()")
                await killer.execute("SELECT pg_terminate_backend($1)", pid)
                await connection.fetchval("SELECT pg_sleep(5)")
    finally:
        await killer.close()
    assert await backend_pid(driver) != pid


async def test_a_connection_left_unusable_is_thrown_away(driver: DriverPool) -> None:
    before = await backend_pid(driver)
    with pytest.raises(StorageUnavailable, match="another operation"):
        async with driver.connection():
            raise asyncpg.exceptions.InternalClientError("another operation is in progress")
    assert await backend_pid(driver) != before


async def test_a_deadlock_is_503_and_the_connection_is_kept(driver: DriverPool) -> None:
    before = await backend_pid(driver)
    with pytest.raises(StorageUnavailable, match="deadlock"):
        async with driver.connection():
            raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
    assert await backend_pid(driver) == before


async def test_other_errors_propagate_unchanged(driver: DriverPool) -> None:
    before = await backend_pid(driver)
    with pytest.raises(asyncpg.exceptions.UndefinedTableError):
        async with driver.connection() as connection:
            await connection.fetch("SELECT * FROM no_such_table")
    assert await backend_pid(driver) == before
