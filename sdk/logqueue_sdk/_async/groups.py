"""Consumer groups, asynchronous flavour: members share a topic's messages under leases.

Request shapes and answers live in ``_groups_base``; this is only the I/O.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from logqueue_sdk import _groups_base as base
from logqueue_sdk._base import DEFAULT_BROKER, DEFAULT_RETRIES, DEFAULT_TIMEOUT, RetryPolicy
from logqueue_sdk._groups_base import (
    DEFAULT_GROUP_BATCH,
    DEFAULT_GROUP_WAIT,
    Delivered,
    GroupInfo,
    StartAt,
)
from logqueue_sdk.errors import LeaseExpired, LogQueueError, Stopped

from ._primitives import Keepalive
from .client import AsyncClient

logger = logging.getLogger("logqueue_sdk")


class AsyncGroupMessage(Delivered):
    """A message out on a lease: finish it with ``ack()``, give it back with ``nack()``,
    dead-letter it with ``term()``; unsettled, it comes back once the lease expires."""

    __slots__ = ("lease",)

    def __init__(self, lease: "AsyncLease", item: dict[str, Any]) -> None:
        super().__init__(lease.topic, item)
        self.lease = lease

    async def ack(self) -> None:
        """Finish this message for the group: it is never delivered to it again."""
        await self.lease.ack([self.offset])

    async def nack(self, delay: float = 0.0) -> None:
        """Deliver it again, no sooner than ``delay`` seconds from now."""
        await self.lease.nack(delay, [self.offset])

    async def term(self) -> None:
        """Dead-letter it now, however many deliveries it had."""
        await self.lease.term([self.offset])

    async def extend(self, seconds: float | None = None) -> datetime:
        """Extend the whole lease this message is on (see ``AsyncLease.extend``)."""
        return await self.lease.extend(seconds)

    def __repr__(self) -> str:
        return f"<GroupMessage {self.topic}@{self.offset} delivery={self.delivery}>"


class AsyncLease:
    """Messages leased to this member until ``expires_at``; a lease is a fencing token, so
    once it has expired every call on it raises ``LeaseExpired`` and changes nothing.
    ``offsets`` default to every message still on the lease."""

    def __init__(self, consumer: "AsyncGroupConsumer", data: base.LeaseData) -> None:
        self._consumer = consumer
        self.topic = consumer.topic
        self.lease_id = data.lease_id
        self.expires_at = data.expires_at
        self.messages = [AsyncGroupMessage(self, item) for item in data.items]

    async def ack(self, offsets: list[int] | None = None) -> int:
        """Finish the messages for the group; returns how many."""
        return await self._settle("ack", offsets, "acked")

    async def nack(self, delay: float = 0.0, offsets: list[int] | None = None) -> int:
        """Give the messages back, to be delivered again after ``delay`` seconds."""
        return await self._settle("nack", offsets, "nacked", delay)

    async def term(self, offsets: list[int] | None = None) -> int:
        """Dead-letter the messages now; returns how many."""
        return await self._settle("term", offsets, "terminated")

    async def extend(self, seconds: float | None = None) -> datetime:
        """Make the lease last ``seconds`` from now (default: the group's ack wait)."""
        consumer = self._consumer
        call = base.extend_call(consumer.topic, consumer.group, self.lease_id, seconds)
        self.expires_at = base.parse_expiry(await consumer.client._request(call))
        return self.expires_at

    async def _settle(
        self, verb: base.Verb, offsets: list[int] | None, key: str, delay: float = 0.0
    ) -> int:
        consumer = self._consumer
        call = base.settle_call(consumer.topic, consumer.group, verb, self.lease_id, offsets, delay)
        return base.parse_count(await consumer.client._request(call), key)


class AsyncGroupConsumer:
    """One member of consumer group ``group`` on ``topic``; any number of members (in any
    processes) share the group's messages, each message leased to one member at a time.

    Delivery is at-least-once: a message comes back when its lease expires unacked (the
    member crashed, or was too slow), so handlers should be idempotent. ``member`` names
    this member in the broker's logs (default: host, pid and a random suffix).
    """

    def __init__(
        self,
        broker: str = DEFAULT_BROKER,
        topic: str = "",
        group: str = "",
        *,
        member: str | None = None,
        max_messages: int = DEFAULT_GROUP_BATCH,
        wait: float = DEFAULT_GROUP_WAIT,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
    ) -> None:
        if not topic or not group:
            raise ValueError("a group consumer needs a topic and a group")
        self.client = AsyncClient(broker, api_key=api_key, timeout=timeout, retries=retries)
        self.topic = topic
        self.group = group
        self.member = member or base.default_member()
        self.max_messages = max_messages
        self.wait = wait
        self._stopped = False

    async def create(
        self,
        *,
        start: StartAt = "earliest",
        ack_wait: float | None = None,
        max_deliver: int | None = None,
        dead_letter_topic: str | None = None,
    ) -> GroupInfo:
        """Create the group (at ``start``), or update the settings given (not ``start``)."""
        call = base.put_group_call(
            self.topic, self.group, start, ack_wait, max_deliver, dead_letter_topic
        )
        return base.parse_group(await self.client._request(call))

    async def details(self) -> GroupInfo:
        """The group's settings, position and counters, as the broker has them now."""
        return base.parse_group(
            await self.client._request(base.group_details_call(self.topic, self.group))
        )

    async def seek(self, start: StartAt) -> GroupInfo:
        """Everything before ``start`` counts as finished; everything from it is delivered
        again (replay). Leases out now are dropped."""
        call = base.seek_call(self.topic, self.group, start)
        return base.parse_group(await self.client._request(call))

    async def delete(self) -> None:
        """Remove the group with its leases; the topic and its messages stay."""
        await self.client._request(base.delete_group_call(self.topic, self.group))

    async def fetch(
        self, max_messages: int | None = None, wait: float | None = None
    ) -> AsyncLease | None:
        """Lease up to ``max_messages`` messages, waiting up to ``wait`` seconds for one;
        None when there was nothing (or the consumer is stopped)."""
        if self._stopped:
            return None
        call = base.fetch_call(
            self.topic,
            self.group,
            self.member,
            max_messages or self.max_messages,
            self.wait if wait is None else wait,
        )
        try:
            body = await self.client._request(call)
        except (Stopped, LogQueueError):
            if self._stopped:
                return None
            raise
        data = base.parse_fetched(body)
        return None if data is None else AsyncLease(self, data)

    async def messages(self) -> AsyncIterator[AsyncGroupMessage]:
        """Every message leased to this member, until ``stop()``; settle each one."""
        while not self._stopped:
            lease = await self.fetch()
            waiting = [] if lease is None else lease.messages[::-1]
            while waiting:
                yield waiting.pop()

    def __aiter__(self) -> AsyncIterator[AsyncGroupMessage]:
        return self.messages()

    async def process(
        self,
        handler: Callable[[AsyncGroupMessage], Awaitable[object]],
        *,
        limit: int | None = None,
        until_empty: bool = False,
    ) -> int:
        """Run ``handler`` on each message: ack when it returns, nack when it raises.

        The lease is extended while a slow handler runs. Returns the number of messages
        handled, after ``limit`` of them, when a fetch finds nothing (``until_empty``) or
        after ``stop()``.
        """
        period = base.keepalive_period((await self.details()).ack_wait)
        handled = 0
        while not self._stopped and (limit is None or handled < limit):
            room = self.max_messages if limit is None else min(self.max_messages, limit - handled)
            lease = await self.fetch(room)
            if lease is None:
                if until_empty:
                    break
                continue
            async with Keepalive(lease.extend, period):
                for message in lease.messages:
                    await self._handle(handler, message)
                    handled += 1
        return handled

    async def _handle(
        self, handler: Callable[[AsyncGroupMessage], Awaitable[object]], message: AsyncGroupMessage
    ) -> None:
        try:
            await handler(message)
        except Exception:
            logger.exception("handler failed on %r; giving it back", message)
            failed = True
        else:
            failed = False
        try:
            await (message.nack() if failed else message.ack())
        except LeaseExpired:
            logger.warning("lease of %r expired before it was settled; it comes back", message)

    async def stop(self) -> None:
        """No more fetches; release the connection pool."""
        self._stopped = True
        await self.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
