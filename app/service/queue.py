"""The queue's rules, between the HTTP routers and the SQL repository.

Topic, producer and consumer bindings never change once made, so they are cached per
process; the repository re-checks the rows it writes, so a stale cache can not store
anything wrong.
"""

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence

from app.errors import (
    BatchTooLarge,
    ConsumerNotFound,
    InvalidRequest,
    MessageTooLarge,
    ProducerNotFound,
    SequenceConflict,
    TopicExists,
    TopicNotFound,
    WrongTopic,
)
from app.service.group_commit import Appended, GroupCommitter
from app.service.wakeups import Wakeups
from app.settings import Settings
from app.storage import QueueRepository, StoredMessage, TopicRecord
from app.storage.repository import NewMessage

# JavaScript-safe integers: old browser clients can hold them without rounding.
ID_BITS = 53


def new_client_id() -> int:
    """Ids are the only credential a client has, so they are random, never counted."""
    return secrets.randbelow(2**ID_BITS - 1) + 1


class _Bindings:
    """Which topic each producer (or consumer) id was registered for."""

    def __init__(
        self,
        role: str,
        lookup: Callable[[int], Awaitable[int | None]],
        insert: Callable[[int, int], Awaitable[bool]],
        not_found: type[ProducerNotFound] | type[ConsumerNotFound],
    ) -> None:
        self._role = role
        self._lookup = lookup
        self._insert = insert
        self._not_found = not_found
        self._topics: dict[int, int] = {}

    async def register(self, topic_id: int) -> int:
        while True:
            client_id = new_client_id()
            if await self._insert(client_id, topic_id):
                self._topics[client_id] = topic_id
                return client_id

    async def check(self, client_id: int, topic_name: str, topic_id: int) -> None:
        bound = self._topics.get(client_id)
        if bound is None:
            bound = await self._lookup(client_id)
            if bound is None:
                raise self._not_found(client_id)
            self._topics[client_id] = bound
        if bound != topic_id:
            raise WrongTopic(self._role, client_id, topic_name)


class QueueService:
    def __init__(
        self,
        repository: QueueRepository,
        wakeups: Wakeups,
        *,
        max_message_bytes: int,
        max_batch: int,
    ) -> None:
        self._repo = repository
        self.wakeups = wakeups
        self._max_message_bytes = max_message_bytes
        self._max_batch = max_batch
        self._topic_ids: dict[str, int] = {}
        self._producers = _Bindings(
            "producer", repository.producer_topic, repository.add_producer, ProducerNotFound
        )
        self._consumers = _Bindings(
            "consumer", repository.consumer_topic, repository.add_consumer, ConsumerNotFound
        )
        self._committers: dict[int, GroupCommitter] = {}

    @classmethod
    def from_settings(cls, repository: QueueRepository, settings: Settings) -> "QueueService":
        return cls(
            repository,
            Wakeups(settings.max_waiters),
            max_message_bytes=settings.max_message_bytes,
            max_batch=settings.max_batch,
        )

    async def database_ok(self) -> bool:
        try:
            await self._repo.ping()
        except Exception:
            return False
        return True

    async def create_topic(self, name: str) -> None:
        topic = await self._repo.create_topic(name)
        if topic is None:
            raise TopicExists(name)
        self._topic_ids[name] = topic.id

    async def list_topics(self) -> list[str]:
        return await self._repo.list_topics()

    async def register_producer(self, topic_name: str) -> int:
        """Registering a producer creates its topic, as the original design did."""
        topic = await self._find_topic(topic_name) or await self._get_or_create(topic_name)
        return await self._producers.register(topic.id)

    async def register_consumer(self, topic_name: str) -> int:
        topic_id = await self._topic_id(topic_name)
        return await self._consumers.register(topic_id)

    def shutdown(self) -> None:
        """Answer every long poll now with what it has, and let no new one wait."""
        self.wakeups.close()

    async def produce(
        self,
        topic_name: str,
        producer_id: int,
        bodies: Sequence[str],
        sequence: int | None = None,
    ) -> Appended:
        """Append ``bodies`` in order, all or nothing; answers once they are committed.

        With a ``sequence``, a repeat of the producer's last sequence is answered with the
        original offsets and stores nothing, so clients can retry safely.
        """
        if len(bodies) > self._max_batch:
            raise BatchTooLarge(len(bodies), self._max_batch)
        for body in bodies:
            size = len(body.encode())
            if size > self._max_message_bytes:
                raise MessageTooLarge(size, self._max_message_bytes)
        topic_id = await self._topic_id(topic_name)
        await self._producers.check(producer_id, topic_name, topic_id)
        batch = [NewMessage(producer_id, body) for body in bodies]
        committer = self._committer(topic_id, topic_name)
        if sequence is None:
            return await committer.append(batch)

        async def sequenced() -> Appended:
            result = await self._repo.append_sequenced(topic_id, producer_id, sequence, batch)
            if result.outcome == "no_producer":
                raise ProducerNotFound(producer_id)
            if result.outcome == "no_topic":
                raise TopicNotFound(topic_name)
            if result.outcome == "out_of_order":
                raise SequenceConflict(producer_id, sequence, result.expected)
            if result.outcome == "stored":
                self.wakeups.notify(topic_id)
            return Appended(result.first, result.count, result.outcome == "duplicate")

        return await committer.run_alone(sequenced)

    async def consume(
        self, topic_name: str, consumer_id: int, max_messages: int = 1, wait_ms: int = 0
    ) -> list[StoredMessage]:
        """Read up to ``max_messages``; with nothing new, wait up to ``wait_ms`` for a produce."""
        if max_messages > self._max_batch:
            raise InvalidRequest("max_messages", f"must be at most {self._max_batch}")
        topic_id = await self._consumer_topic_id(topic_name, consumer_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_ms / 1000
        while True:
            woken = self.wakeups.current(topic_id)  # before the read: no lost wake-up
            found = await self._repo.read_next(topic_id, consumer_id, max_messages)
            left = deadline - loop.time()
            if found or left <= 0 or self.wakeups.closed:
                return found
            await self.wakeups.wait(woken, left)

    async def remaining(self, topic_name: str, consumer_id: int) -> int:
        await self._consumer_topic_id(topic_name, consumer_id)
        remaining = await self._repo.remaining(consumer_id)
        if remaining is None:
            raise ConsumerNotFound(consumer_id)
        return remaining

    async def _consumer_topic_id(self, topic_name: str, consumer_id: int) -> int:
        topic_id = await self._topic_id(topic_name)
        await self._consumers.check(consumer_id, topic_name, topic_id)
        return topic_id

    def _committer(self, topic_id: int, topic_name: str) -> GroupCommitter:
        committer = self._committers.get(topic_id)
        if committer is None:

            async def write(batch: Sequence[NewMessage]) -> int:
                first = await self._repo.append(topic_id, batch)
                if first is None:
                    raise TopicNotFound(topic_name)
                self.wakeups.notify(topic_id)
                return first

            committer = self._committers[topic_id] = GroupCommitter(write)
        return committer

    async def _find_topic(self, name: str) -> TopicRecord | None:
        cached = self._topic_ids.get(name)
        if cached is not None:
            return TopicRecord(cached, name)
        topic = await self._repo.get_topic(name)
        if topic is not None:
            self._topic_ids[name] = topic.id
        return topic

    async def _topic_id(self, name: str) -> int:
        topic = await self._find_topic(name)
        if topic is None:
            raise TopicNotFound(name)
        return topic.id

    async def _get_or_create(self, name: str) -> TopicRecord:
        """Two registrations racing to create one topic both end up with the same row."""
        topic = await self._repo.create_topic(name) or await self._repo.get_topic(name)
        if topic is None:
            raise TopicNotFound(name)
        self._topic_ids[name] = topic.id
        return topic
