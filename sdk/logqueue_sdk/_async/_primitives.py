"""What asyncio does differently from threads, under names both flavours share.

``scripts/unasync.py`` rewrites the rest of this package line by line into ``_sync``; these
differ in more than spelling, so ``_sync/_primitives.py`` is their hand-written twin.
"""

import asyncio

Event = asyncio.Event
Lock = asyncio.Lock
Condition = asyncio.Condition


async def sleep(delay: float) -> None:
    await asyncio.sleep(delay)


async def wait(event: Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``event``; True if it was set."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
