"""The exit-signal hook runs the app's step first, then the handler that was there."""

import asyncio
import signal
from types import FrameType

from app.shutdown import on_exit_signal


async def test_sigterm_runs_callback_then_previous_handler() -> None:
    seen: list[str] = []
    woken = asyncio.Event()

    def uvicorn_like(signum: int, _frame: FrameType | None) -> None:
        seen.append(f"previous:{signum}")

    def callback() -> None:
        seen.append("callback")
        woken.set()

    original = signal.signal(signal.SIGTERM, uvicorn_like)
    try:
        with on_exit_signal(callback):
            signal.raise_signal(signal.SIGTERM)
            await asyncio.wait_for(woken.wait(), timeout=5)
            assert seen == [f"previous:{signal.SIGTERM}", "callback"]
        # Leaving the block puts the previous handler back.
        assert signal.getsignal(signal.SIGTERM) is uvicorn_like
    finally:
        signal.signal(signal.SIGTERM, original)
