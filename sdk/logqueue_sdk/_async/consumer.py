"""A consumer: reads topics in order, each at its own offset, batches fetched ahead."""

from collections.abc import AsyncIterator, Iterable, Mapping

from logqueue_sdk import _base
from logqueue_sdk._base import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BROKER,
    DEFAULT_MAX_WAIT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Inbox,
    RetryPolicy,
    Rotation,
)
from logqueue_sdk.errors import Stopped
from logqueue_sdk.models import Message

from ._lifecycle import Lifecycle
from ._primitives import Event
from .client import AsyncClient
from .gate import Gate
from .registrations import Registrations


class AsyncConsumer(Lifecycle):
    """Reads topics in order, each at this consumer's own offset.

    Registers a new consumer on each of ``topics`` (they must exist) when started (the
    threaded ``Consumer`` in its constructor, the asyncio one on ``start()``, ``async with``
    or first use), unless ``consumer_ids`` gives the id to resume with. ``get_next()`` (or
    iterating the consumer) round-robins the topics until ``stop()``, which may come from
    another thread or task.
    """

    def __init__(
        self,
        broker: str = DEFAULT_BROKER,
        topics: Iterable[str] = (),
        *,
        api_key: str | None = None,
        consumer_ids: Mapping[str, int] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self.client = AsyncClient(broker, api_key=api_key, timeout=timeout, retries=retries)
        self._registrations = Registrations(self.client, "consumer", consumer_ids or {})
        self._topics = list(dict.fromkeys([*topics, *self._registrations.ids]))
        self._inbox = Inbox(batch_size)
        self._max_wait = _base.require_positive(max_wait, "max_wait")
        self._gate = Gate("consumer")
        self._stopped = Event()
        self._begin()

    @property
    def topic_id_map(self) -> dict[str, int]:
        """Consumer id per topic."""
        return self._registrations.ids

    async def register(self, topic: str) -> int:
        """Register a new consumer on ``topic`` (reading from offset 0) and read with it."""
        async with self._gate.open():
            consumer_id = await self._registrations.register(topic, self._stopped)
        if topic not in self._topics:
            self._topics.append(topic)
        return consumer_id

    async def dequeue(self, topic: str) -> Message | None:
        """The next message of ``topic``, or None if there is nothing new."""
        held = self._inbox.take(topic)
        if held is not None:
            return held
        async with self._gate.open():
            consumer_id = await self._registrations.id_for(topic, self._stopped)
            call = _base.consume_call(topic, consumer_id)
            body = await self.client._request(call, self._stopped)
        messages = _base.parse_consumed(topic, body)
        return messages[0] if messages else None

    async def size(self, topic: str) -> int:
        """How many messages of ``topic`` this consumer has not received yet."""
        async with self._gate.open():
            consumer_id = await self._registrations.id_for(topic, self._stopped)
            body = await self.client._request(_base.size_call(topic, consumer_id), self._stopped)
        return _base.parse_size(body) + self._inbox.held(topic)

    async def get_next(self) -> AsyncIterator[Message]:
        """Yield messages from all topics in turn, waiting when all are empty, until ``stop()``.

        Messages already taken from the broker are handed over before it returns; raises
        ``BrokerUnavailable`` if the broker cannot be reached after the allowed retries.
        """
        rotation = Rotation(self._max_wait)
        while not self._stopped.is_set() and self._topics:
            topic = rotation.next_topic(self._topics)
            if not self._inbox.held(topic):
                try:
                    await self._fetch(topic, rotation.next_wait(len(self._topics)))
                except Stopped:
                    break
            rotation.record(self._inbox.held(topic))
            while (message := self._inbox.take(topic)) is not None:
                yield message
        while (message := self._inbox.take_any()) is not None:
            yield message

    def __aiter__(self) -> AsyncIterator[Message]:
        return self.get_next()

    async def stop(self) -> None:
        """End ``get_next()`` promptly, wait for requests in flight, close the connection pool."""
        self._stopped.set()
        await self._gate.close()
        await self.client.aclose()

    async def _register_listed(self) -> None:
        for topic in self._topics:
            async with self._gate.open():
                await self._registrations.id_for(topic, self._stopped)

    async def _fetch(self, topic: str, wait: float) -> None:
        """Fetch a batch of ``topic`` into the inbox; the broker holds the poll up to ``wait``."""
        async with self._gate.open():
            consumer_id = await self._registrations.id_for(topic, self._stopped)
            call = self._inbox.fetch_call(topic, consumer_id, wait)
            self._inbox.accept(topic, await self.client._request(call, self._stopped))
