"""What threads do differently from asyncio, under names both flavours share.

The hand-written twin of ``_async/_primitives.py``; the rest of this package is generated.
"""

import threading
import time

Event = threading.Event
Lock = threading.Lock
Condition = threading.Condition


def sleep(delay: float) -> None:
    time.sleep(delay)


def wait(event: Event, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``event``; True if it was set."""
    return event.wait(timeout)
