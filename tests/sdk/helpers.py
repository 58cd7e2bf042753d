"""Small tools for SDK tests that share one server per module."""

import time
import uuid
from collections.abc import Callable

from logqueue_sdk import Client, Message


def unique(prefix: str = "t") -> str:
    """Topic names unique per test: the server (and its data) is shared within a module."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``condition`` until it holds; fail (not hang) at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.01)


def plain(message: Message | None) -> tuple[str, int, str] | None:
    """A message without its timestamp, for comparing with expected values."""
    return None if message is None else (message.topic, message.offset, message.body)


def create_topic(broker: str, name: str) -> None:
    with Client(broker) as client:
        client.create_topic(name)
