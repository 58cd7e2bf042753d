"""One timed load: the messages it confirmed, how long it took, and the server CPU it cost.

Used for loads that run in this process (the SDK, the bare httpx loop, the anchors' clients);
wrk's runs carry the same figures in ``WrkResult``.
"""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    messages: int
    seconds: float
    server_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def cpu_per_message_us(self) -> float:
        return self.server_cpu_seconds / max(self.messages, 1) * 1e6


def measured(server_cpu: Callable[[], float], load: Callable[[], int]) -> Run:
    """Run ``load`` (it returns the messages it confirmed) and note time and server CPU."""
    cpu_before = server_cpu()
    started = time.monotonic()
    messages = load()
    elapsed = time.monotonic() - started
    return Run(messages, elapsed, server_cpu() - cpu_before)


async def measured_async(server_cpu: Callable[[], float], load: Awaitable[int]) -> Run:
    """``measured`` for a load that is a coroutine (the anchors' asyncio clients)."""
    cpu_before = server_cpu()
    started = time.monotonic()
    messages = await load
    elapsed = time.monotonic() - started
    return Run(messages, elapsed, server_cpu() - cpu_before)
