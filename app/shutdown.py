"""Hearing SIGTERM before uvicorn's graceful shutdown waits on in-flight requests.

uvicorn stops accepting, waits for every running request and only then runs the app's
lifespan shutdown. A long poll would hold that wait for its whole timeout, so the app
chains its own step in front of uvicorn's signal handler: wake the waiters first, then
let uvicorn proceed as usual.
"""

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def on_exit_signal(callback: Callable[[], None]) -> Iterator[None]:
    """Run ``callback`` on the event loop when SIGINT or SIGTERM arrives, then the old handler.

    Only the main thread may set signal handlers; elsewhere this does nothing. The
    previous handlers are restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in EXIT_SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)
        chained = previous[signal.Signals(signum)]
        if callable(chained):
            chained(signum, frame)
        elif chained == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for sig in EXIT_SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)
