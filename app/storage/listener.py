"""PostgreSQL LISTEN for produces committed by other server processes.

One dedicated asyncpg connection (not from the pool) listens on the channel the append
statement notifies. If it drops, it reconnects with backoff and reports a reconnect, since
notifications sent while it was away are lost. It connects with the engine's hosts and
``target_session_attrs``, so after a failover it follows the new primary (a standby can
neither LISTEN nor be notified: every NOTIFY runs on the primary).
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from app.database import driver_connect_args
from app.storage.failures import UNUSABLE_CONNECTION_ERRORS
from app.storage.postgres import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)

# Down, refused, or only standbys up (no host matches target_session_attrs=read-write).
_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.TargetServerAttributeNotMatched,
)

# Killed before or while it starts listening (the connection dies under LISTEN): retry too.
_LISTEN_FAILURES: tuple[type[Exception], ...] = (*_UNREACHABLE, *UNUSABLE_CONNECTION_ERRORS)


class ProduceListener:
    def __init__(
        self,
        database_url: str,
        own_tag: str,
        on_produced: Callable[[int], None],
        on_reconnect: Callable[[], None],
    ) -> None:
        self._connect_args = driver_connect_args(database_url)
        self._own_tag = own_tag
        self._on_produced = on_produced
        self._on_reconnect = on_reconnect
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self, ready_timeout: float = 5.0) -> None:
        """Start listening; wait briefly so a server that answers also hears other processes."""
        self._task = asyncio.create_task(self._run(), name="logqueue-listener")
        try:
            await asyncio.wait_for(self.connected.wait(), ready_timeout)
        except TimeoutError:
            logger.warning("listener not connected after %.0fs; continuing", ready_timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                connection = await asyncpg.connect(**self._connect_args, timeout=5)
            except _UNREACHABLE as exc:
                logger.warning("listener cannot connect (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.1
            try:
                await self._listen(connection)
            except _LISTEN_FAILURES as exc:
                logger.warning("listener connection failed (%s); reconnecting", exc)
                await asyncio.sleep(delay)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(connection.close(timeout=1))

    async def _listen(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _conn: lost.set())
        await connection.add_listener(NOTIFY_CHANNEL, self._handle)
        self.connected.set()
        # Anything committed while we were not listening has gone unannounced.
        self._on_reconnect()
        await lost.wait()
        logger.warning("listener connection lost; reconnecting")

    def _handle(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        """asyncpg's listener signature; a NOTIFY payload is the text ``<topic id>:<tag>``."""
        topic, _, tag = str(payload).partition(":")
        if tag != self._own_tag and topic.isdigit():
            self._on_produced(int(topic))
