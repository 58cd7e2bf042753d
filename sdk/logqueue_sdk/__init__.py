"""Python client for LogQueue, a durable HTTP log queue.

Two flavours with the same method names: ``AsyncClient``/``AsyncProducer``/``AsyncConsumer``/
``AsyncGroupConsumer`` for asyncio, ``Client``/``Producer``/``Consumer``/``GroupConsumer`` for
scripts and threads.
"""

from logqueue_sdk._async import (
    AsyncClient,
    AsyncConsumer,
    AsyncGroupConsumer,
    AsyncGroupMessage,
    AsyncLease,
    AsyncProducer,
)
from logqueue_sdk._base import DEFAULT_BROKER, RetryPolicy, StreamStart
from logqueue_sdk._groups_base import GroupInfo, StartAt
from logqueue_sdk._sync import Client, Consumer, GroupConsumer, GroupMessage, Lease, Producer
from logqueue_sdk.errors import (
    AccessDenied,
    BrokerUnavailable,
    GroupNotFound,
    InvalidRequest,
    LeaseExpired,
    LogQueueError,
    NotRegistered,
    SequenceConflict,
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
    "AsyncGroupConsumer",
    "AsyncGroupMessage",
    "AsyncLease",
    "AsyncProducer",
    "BrokerStatus",
    "BrokerUnavailable",
    "Client",
    "Consumer",
    "GroupConsumer",
    "GroupInfo",
    "GroupMessage",
    "GroupNotFound",
    "InvalidRequest",
    "Lease",
    "LeaseExpired",
    "LogQueueError",
    "Message",
    "NotRegistered",
    "Producer",
    "RetryPolicy",
    "SequenceConflict",
    "StartAt",
    "Stopped",
    "StreamStart",
    "TopicExists",
    "TopicNotFound",
]
