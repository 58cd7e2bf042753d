"""Noticing that an HTTP client has gone while its request is still being worked on."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.types import Receive


@contextlib.asynccontextmanager
async def watch_disconnect(receive: Receive) -> AsyncIterator[asyncio.Event]:
    """An event set when the server reports ``http.disconnect``. Only for requests whose
    body has been read (or that have none): the watcher takes what ``receive`` gives."""
    gone = asyncio.Event()

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.create_task(watch())
    try:
        yield gone
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
