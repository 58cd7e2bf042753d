"""Python client for LogQueue, a durable HTTP log queue.

Two flavours with the same method names: ``AsyncClient``/``AsyncProducer``/``AsyncConsumer``
for asyncio, ``Client``/``Producer``/``Consumer`` for scripts and threads.
"""

from logqueue_sdk._async import AsyncClient, AsyncConsumer, AsyncProducer
from logqueue_sdk._base import DEFAULT_BROKER, RetryPolicy, StreamStart
from logqueue_sdk._sync import Client, Consumer, Producer
from logqueue_sdk.errors import (
    AccessDenied,
    BrokerUnavailable,
    InvalidRequest,
    LogQueueError,
    NotRegistered,
    Stopped,
    TopicExists,
    TopicNotFound,
)
from logqueue_sdk.models import BrokerStatus, Message

__all__ = [
    "DEFAULT_BROKER",
    "AccessDenied",
    "AsyncClient",
    "AsyncConsumer",
    "AsyncProducer",
    "BrokerStatus",
    "BrokerUnavailable",
    "Client",
    "Consumer",
    "InvalidRequest",
    "LogQueueError",
    "Message",
    "NotRegistered",
    "Producer",
    "RetryPolicy",
    "Stopped",
    "StreamStart",
    "TopicExists",
    "TopicNotFound",
]
