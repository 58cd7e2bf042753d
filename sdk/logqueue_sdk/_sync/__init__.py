# Generated from sdk/logqueue_sdk/_async/__init__.py by scripts/unasync.py; edit that file.
"""One flavour's client, producer and consumer: the asyncio one is written by hand, and
``scripts/unasync.py`` generates the threaded one from it."""

from .client import Client
from .consumer import Consumer
from .producer import Producer

__all__ = ["Client", "Consumer", "Producer"]
