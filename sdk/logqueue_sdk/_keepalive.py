"""Keep a lease alive while a slow handler runs: the one primitive the two group-consumer
flavours do differently (a task beside the handler, or a thread beside it)."""

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from logqueue_sdk.errors import LogQueueError

logger = logging.getLogger("logqueue_sdk")


class AsyncKeepalive:
    """Calls ``renew`` every ``period`` seconds inside ``async with``; stops at the first
    failure (the lease is gone, so renewing it again cannot help)."""

    def __init__(self, renew: Callable[[], Awaitable[Any]], period: float) -> None:
        self._renew = renew
        self._period = period
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), self._period)
                return
            try:
                await self._renew()
            except LogQueueError as exc:
                logger.warning("could not extend the lease: %s", exc.message)
                return

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._task is not None:
            await self._task


class Keepalive:
    """The thread flavour of ``AsyncKeepalive``."""

    def __init__(self, renew: Callable[[], Any], period: float) -> None:
        self._renew = renew
        self._period = period
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._done.wait(self._period):
            try:
                self._renew()
            except LogQueueError as exc:
                logger.warning("could not extend the lease: %s", exc.message)
                return

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._run, daemon=True, name="logqueue-keepalive")
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
