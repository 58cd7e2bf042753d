"""One process's database connections: the SQLAlchemy engine, and on PostgreSQL an asyncpg pool.

The engine serves the portable SQL (topics, registration, reads for the console and
streams, retention, statistics, the general paths of consumer groups). The hot paths
(produce, consume, a group's fresh fetch and whole-lease ack) are single prepared
statements on a raw asyncpg connection, and take it from asyncpg's own pool: checking a
connection out of SQLAlchemy's pool around the raw call cost 88 to 93 µs of CPU a request,
asyncpg's pool without its reset query 23 µs. The reset query is left out because these
statements leave nothing behind in the session (no SET, LISTEN, cursor or advisory lock),
and a transaction left open is still rolled back on release.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from app.errors import StorageUnavailable
from app.storage.failures import (
    CONNECT_FAILURES,
    connection_unusable,
    first_line,
    retry_later,
)

# How long closing waits for connections still checked out before cutting them off.
_CLOSE_TIMEOUT_S = 5.0


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """Replaces asyncpg's reset query (a round trip on every release): see the module."""


class DriverPool:
    """asyncpg's pool with this service's failure rules: a checkout that waits longer than
    ``timeout`` seconds for a connection to be handed back (or ``connect_timeout`` for a new
    one to open), a host that can not be reached, a statement that failed in a way worth
    retrying: ``StorageUnavailable`` (503). A connection left unusable is thrown away,
    with every idle one (a restart or a failover killed them too); a closed one is replaced
    at its next checkout, connecting to whichever host is the primary then."""

    def __init__(self, pool: asyncpg.Pool, timeout: float, connect_timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connect_timeout = connect_timeout

    @classmethod
    async def open(
        cls, connect_args: dict[str, Any], *, size: int, timeout: float, connect_timeout: float
    ) -> "DriverPool":
        """Connections are opened when first needed and then kept (none at start, so a
        server starts while its database is still coming up)."""
        pool = await asyncpg.create_pool(
            **connect_args,
            min_size=0,
            max_size=size,
            max_inactive_connection_lifetime=0,
            reset=_keep_session,
            timeout=connect_timeout,
        )
        return cls(pool, timeout, connect_timeout)

    def connection(self) -> "_Checkout":
        """``async with pool.connection() as connection:`` one pooled connection."""
        return _Checkout(self)

    def checked_out(self) -> int:
        return self._pool.get_size() - self._pool.get_idle_size()

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), _CLOSE_TIMEOUT_S)
        except TimeoutError:
            self._pool.terminate()


class _Checkout:
    """A class rather than ``@asynccontextmanager``: this runs on every produce and consume."""

    __slots__ = ("_connection", "_owner")

    def __init__(self, owner: DriverPool) -> None:
        self._owner = owner

    async def __aenter__(self) -> PoolConnectionProxy:
        owner = self._owner
        pool = owner._pool
        # Waiting for a connection to come back is bounded by the pool timeout; opening one
        # (asyncpg opens them at checkout) by the connect timeout, as SQLAlchemy's pool does.
        every_one_in_use = pool.get_size() - pool.get_idle_size() >= pool.get_max_size()
        limit = owner._timeout if every_one_in_use else owner._connect_timeout
        try:
            # asyncio.timeout arms a timer; acquire(timeout=) would start a task per call.
            async with asyncio.timeout(limit):
                self._connection: PoolConnectionProxy = await pool.acquire()
        except TimeoutError as exc:
            raise StorageUnavailable(f"no database connection within {limit:g} s") from exc
        except CONNECT_FAILURES as exc:
            raise StorageUnavailable(first_line(exc)) from exc
        return self._connection

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        connection, pool = self._connection, self._owner._pool
        unusable = error is not None and (connection_unusable(error) or _closed(connection))
        if unusable:
            with contextlib.suppress(asyncpg.InterfaceError):  # see _closed
                connection.terminate()
            await pool.expire_connections()
        try:
            await pool.release(connection)
        except CONNECT_FAILURES as exc:  # released and closed by asyncpg already
            if error is None:
                raise StorageUnavailable(first_line(exc)) from exc
        if unusable or (isinstance(error, asyncpg.PostgresError) and retry_later(error)):
            assert error is not None
            raise StorageUnavailable(first_line(error)) from error


def _closed(connection: PoolConnectionProxy) -> bool:
    try:
        return connection.is_closed()
    except asyncpg.InterfaceError:  # closed, and handed back to the pool by asyncpg itself
        return True


@dataclass(frozen=True, slots=True)
class Pools:
    """``driver`` is None on SQLite, whose one connection is the engine's."""

    engine: AsyncEngine
    driver: DriverPool | None = None

    def checked_out(self) -> int:
        """Connections in use by this process, in both pools (the metrics gauge)."""
        pool = self.engine.pool
        in_use = pool.checkedout() if isinstance(pool, QueuePool) else 0
        return in_use + (self.driver.checked_out() if self.driver is not None else 0)

    async def close(self) -> None:
        if self.driver is not None:
            await self.driver.close()
        await self.engine.dispose()
