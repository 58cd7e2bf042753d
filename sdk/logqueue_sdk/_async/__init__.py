"""One flavour's client, producer and consumer: the asyncio one is written by hand, and
``scripts/unasync.py`` generates the threaded one from it."""

from .client import AsyncClient
from .consumer import AsyncConsumer
from .producer import AsyncProducer

__all__ = ["AsyncClient", "AsyncConsumer", "AsyncProducer"]
