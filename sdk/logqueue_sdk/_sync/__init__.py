# Generated from sdk/logqueue_sdk/_async/__init__.py by scripts/unasync.py; edit that file.
"""One flavour's client, producer, consumer and group consumer: the asyncio one is written
by hand, and ``scripts/unasync.py`` generates the threaded one from it."""

from .client import Client
from .consumer import Consumer
from .groups import GroupConsumer, GroupMessage, Lease
from .producer import Producer

__all__ = [
    "Client",
    "Consumer",
    "GroupConsumer",
    "GroupMessage",
    "Lease",
    "Producer",
]
