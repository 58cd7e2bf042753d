"""One flavour's client, producer, consumer and group consumer: the asyncio one is written
by hand, and ``scripts/unasync.py`` generates the threaded one from it."""

from .client import AsyncClient
from .consumer import AsyncConsumer
from .groups import AsyncGroupConsumer, AsyncGroupMessage, AsyncLease
from .producer import AsyncProducer

__all__ = [
    "AsyncClient",
    "AsyncConsumer",
    "AsyncGroupConsumer",
    "AsyncGroupMessage",
    "AsyncLease",
    "AsyncProducer",
]
