# Generated from sdk/logqueue_sdk/_async/consumer.py by scripts/unasync.py; edit that file.
"""A consumer: reads topics in order, each at its own offset, batches fetched ahead."""

from collections.abc import Iterable, Iterator, Mapping

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
from .client import Client
from .gate import Gate
from .registrations import Registrations


class Consumer(Lifecycle):
    """Reads topics in order, each at this consumer's own offset.

    Registers a new consumer on each of ``topics`` (they must exist) when started (the
    threaded ``Consumer`` in its constructor, the asyncio one on ``start()``, ``with``
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
        self.client = Client(broker, api_key=api_key, timeout=timeout, retries=retries)
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

    def register(self, topic: str) -> int:
        """Register a new consumer on ``topic`` (reading from offset 0) and read with it."""
        with self._gate.open():
            consumer_id = self._registrations.register(topic, self._stopped)
        if topic not in self._topics:
            self._topics.append(topic)
        return consumer_id

    def dequeue(self, topic: str) -> Message | None:
        """The next message of ``topic``, or None if there is nothing new."""
        held = self._inbox.take(topic)
        if held is not None:
            return held
        with self._gate.open():
            consumer_id = self._registrations.id_for(topic, self._stopped)
            call = _base.consume_call(topic, consumer_id)
            body = self.client._request(call, self._stopped)
        messages = _base.parse_consumed(topic, body)
        return messages[0] if messages else None

    def size(self, topic: str) -> int:
        """How many messages of ``topic`` this consumer has not received yet."""
        with self._gate.open():
            consumer_id = self._registrations.id_for(topic, self._stopped)
            body = self.client._request(_base.size_call(topic, consumer_id), self._stopped)
        return _base.parse_size(body) + self._inbox.held(topic)

    def get_next(self) -> Iterator[Message]:
        """Yield messages from all topics in turn, waiting when all are empty, until ``stop()``.

        Messages already taken from the broker are handed over before it returns; raises
        ``BrokerUnavailable`` if the broker cannot be reached after the allowed retries.
        """
        rotation = Rotation(self._max_wait)
        while not self._stopped.is_set() and self._topics:
            topic = rotation.next_topic(self._topics)
            if not self._inbox.held(topic):
                try:
                    self._fetch(topic, rotation.next_wait(len(self._topics)))
                except Stopped:
                    break
            rotation.record(self._inbox.held(topic))
            while (message := self._inbox.take(topic)) is not None:
                yield message
        while (message := self._inbox.take_any()) is not None:
            yield message

    def __iter__(self) -> Iterator[Message]:
        return self.get_next()

    def stop(self) -> None:
        """End ``get_next()`` promptly, wait for requests in flight, close the connection pool."""
        self._stopped.set()
        self._gate.close()
        self.client.close()

    def _register_listed(self) -> None:
        for topic in self._topics:
            with self._gate.open():
                self._registrations.id_for(topic, self._stopped)

    def _fetch(self, topic: str, wait: float) -> None:
        """Fetch a batch of ``topic`` into the inbox; the broker holds the poll up to ``wait``."""
        with self._gate.open():
            consumer_id = self._registrations.id_for(topic, self._stopped)
            call = self._inbox.fetch_call(topic, consumer_id, wait)
            self._inbox.accept(topic, self.client._request(call, self._stopped))
