"""The queue's rules, between the HTTP routers and the SQL repository.

Topic, producer and consumer bindings never change once made, so they are cached per
process; the repository re-checks the rows it writes, so a stale cache can not store
anything wrong.
"""

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence, Sized
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn, TypeVar

from cachetools import LRUCache

from app.domain import (
    Appended,
    AppendOutcome,
    AppendRequest,
    ClientBinding,
    ClientsPage,
    EncodedMessages,
    LagReport,
    Retention,
    StoredMessage,
    TopicDetails,
    TopicRecord,
)
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
from app.logging import bind_log_fields
from app.service.caller import Caller
from app.service.group_commit import GroupCommitter
from app.service.idle_clients import IdlePolicy, utc_now
from app.service.observer import NoObserver, QueueObserver
from app.service.turns import ConsumerTurns
from app.service.wakeups import Wakeups
from app.settings import Settings
from app.storage import QueueRepository

logger = logging.getLogger(__name__)

# JavaScript-safe integers: old browser clients can hold them without rounding.
ID_BITS = 53


def new_client_id() -> int:
    """Ids are the only credential a client has, so they are random, never counted."""
    return secrets.randbelow(2**ID_BITS - 1) + 1


@dataclass(frozen=True, slots=True)
class ClientRows:
    """The storage calls for one kind of client id (producers or consumers)."""

    lookup: Callable[[int], Awaitable[ClientBinding | None]]
    # (id, topic id, owner, now) -> True, False if the id is taken, None if the topic is gone
    insert: Callable[[int, int, str | None, datetime], Awaitable[bool | None]]
    # (id, now) -> False if the row is gone
    touch: Callable[[int, datetime], Awaitable[bool]]


@dataclass(slots=True)
class _Known:
    binding: ClientBinding
    # When this process next writes the id's last_used_at (see app/service/idle_clients.py).
    stamp_due: datetime


class _Bindings:
    """Which topic each producer (or consumer) id was registered for, and by which key;
    and when each id was last used (stamped on its row now and then, not per request)."""

    def __init__(
        self,
        role: str,
        rows: ClientRows,
        not_found: type[ProducerNotFound] | type[ConsumerNotFound],
        cache_entries: int,
        stamp_interval: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._role = role
        self._rows = rows
        self._not_found = not_found
        self._stamp_interval = stamp_interval
        self._clock = clock
        # Bounded: a miss costs one indexed read, while every id ever used stayed here.
        self._known: LRUCache[int, _Known] = LRUCache(cache_entries)

    async def register(self, topic_id: int, owner: str | None) -> int | None:
        """A new id bound to the topic, or None if the topic no longer exists."""
        while True:
            client_id = new_client_id()
            now = self._clock()
            inserted = await self._rows.insert(client_id, topic_id, owner, now)
            if inserted is None:
                return None
            if inserted:
                binding = ClientBinding(topic_id, owner)
                self._known[client_id] = _Known(binding, now + self._stamp_interval)
                return client_id

    async def check(self, client_id: int, topic_name: str, topic_id: int, caller: Caller) -> None:
        """The id is this topic's and the caller's to use; marks it used."""
        known = self._known.get(client_id)
        if known is None:
            binding = await self._rows.lookup(client_id)
            if binding is None:
                raise self._not_found(client_id)
            known = self._known[client_id] = _Known(binding, self._clock())
        if known.binding.topic_id != topic_id:
            raise WrongTopic(self._role, client_id, topic_name)
        caller.check_owner(self._role, client_id, known.binding.owner)
        now = self._clock()
        if now >= known.stamp_due:
            known.stamp_due = now + self._stamp_interval
            if not await self._rows.touch(client_id, now):  # removed, maybe elsewhere
                self.forget(client_id)
                raise self._not_found(client_id)

    def knows(self, client_id: int) -> bool:
        return client_id in self._known

    def forget(self, client_id: int) -> None:
        self._known.pop(client_id, None)

    def forget_topic(self, topic_id: int) -> None:
        """Drop the bindings of a deleted topic (SQLite may give its id to a new topic);
        a scan of the bounded cache, done only when a topic is deleted."""
        for client_id in [c for c, k in self._known.items() if k.binding.topic_id == topic_id]:
            del self._known[client_id]

    def __len__(self) -> int:
        return len(self._known)


_Batch = TypeVar("_Batch", bound=Sized)
# A repository read: (topic id, consumer id, max messages, max bytes) -> the batch, or
# None when the consumer row is gone.
_Reader = Callable[[int, int, int, int], Awaitable[_Batch | None]]


@dataclass(frozen=True, slots=True)
class _Poll:
    topic_name: str
    topic_id: int
    consumer_id: int
    max_messages: int
    caller: Caller


class QueueService:
    def __init__(
        self,
        repository: QueueRepository,
        wakeups: Wakeups,
        *,
        max_message_bytes: int,
        max_batch: int,
        max_waiters_per_consumer: int = 100,
        cache_entries: int = 100_000,
        max_batch_bytes: int,
        observer: QueueObserver | None = None,
        idle: IdlePolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repo = repository
        self.wakeups = wakeups
        self._observer = observer or NoObserver()
        self._stopping = asyncio.Event()
        self._max_message_bytes = max_message_bytes
        self._max_batch = max_batch
        self._max_batch_bytes = max_batch_bytes
        self._topic_ids: LRUCache[str, int] = LRUCache(cache_entries)
        stamp_interval = (idle or IdlePolicy()).stamp_interval
        self._producers = _Bindings(
            "producer",
            ClientRows(
                repository.producer_topic, repository.add_producer, repository.touch_producer
            ),
            ProducerNotFound,
            cache_entries,
            stamp_interval,
            clock,
        )
        self._consumers = _Bindings(
            "consumer",
            ClientRows(
                repository.consumer_topic, repository.add_consumer, repository.touch_consumer
            ),
            ConsumerNotFound,
            cache_entries,
            stamp_interval,
            clock,
        )
        self._committers: dict[int, GroupCommitter] = {}
        self._turns = ConsumerTurns(max_waiters_per_consumer)

    @classmethod
    def from_settings(
        cls,
        repository: QueueRepository,
        settings: Settings,
        observer: QueueObserver | None = None,
    ) -> "QueueService":
        return cls(
            repository,
            Wakeups(settings.max_waiters),
            max_message_bytes=settings.max_message_bytes,
            max_batch=settings.max_batch,
            max_waiters_per_consumer=settings.max_waiters_per_consumer,
            cache_entries=settings.cache_entries,
            max_batch_bytes=settings.max_batch_bytes,
            observer=observer,
            idle=IdlePolicy.from_seconds(settings.idle_client_ttl),
        )

    async def database_ok(self) -> bool:
        try:
            await self._repo.ping()
        except Exception:
            return False
        return True

    async def create_topic(
        self, name: str, retention: Retention | None = None, *, caller: Caller
    ) -> None:
        bind_log_fields(topic=name)
        caller.require_admin("Creating a topic")
        topic = await self._repo.create_topic(name, retention)
        if topic is None:
            raise TopicExists(name)
        self._topic_ids[name] = topic.id

    async def list_topics(self) -> list[str]:
        return await self._repo.list_topics()

    async def register_producer(self, topic_name: str, *, caller: Caller) -> int:
        """Registering a producer creates its topic, as the original design did."""
        topic = await self._find_topic(topic_name) or await self._get_or_create(topic_name, caller)
        producer_id = await self._producers.register(topic.id, caller.owner)
        if producer_id is None:  # deleted meanwhile: make it again, as for a new name
            self._forget_topic(topic_name, topic.id)
            topic = await self._get_or_create(topic_name, caller)
            producer_id = await self._producers.register(topic.id, caller.owner)
        if producer_id is None:
            raise TopicNotFound(topic_name)
        return producer_id

    async def register_consumer(self, topic_name: str, *, caller: Caller) -> int:
        topic_id = await self._topic_id(topic_name)
        consumer_id = await self._consumers.register(topic_id, caller.owner)
        if consumer_id is None:
            self._forget_topic(topic_name, topic_id)
            raise TopicNotFound(topic_name)
        return consumer_id

    async def produce(
        self,
        topic_name: str,
        producer_id: int,
        bodies: Sequence[str],
        sequence: int | None = None,
        *,
        caller: Caller,
    ) -> Appended:
        """Append ``bodies`` in order, all or nothing; answers once they are committed.

        With a ``sequence``, a repeat of the producer's last sequence is answered with the
        original offsets and stores nothing, so clients can retry safely.
        """
        self.check_batch_size(len(bodies))
        for body in bodies:
            size = len(body.encode())
            if size > self._max_message_bytes:
                raise MessageTooLarge(size, self._max_message_bytes)
        topic_id = await self._bound_topic_id(self._producers, producer_id, topic_name, caller)
        committer = self._committer(topic_id, topic_name)
        result = await committer.append(AppendRequest(producer_id, bodies, sequence))
        if result.outcome == "no_producer":
            raise ProducerNotFound(producer_id)
        if result.outcome == "out_of_order" and sequence is not None:
            raise SequenceConflict(producer_id, sequence, result.expected)
        return Appended(result.first, result.count, result.outcome == "duplicate")

    def check_batch_size(self, count: int) -> None:
        if count > self._max_batch:
            raise BatchTooLarge(count, self._max_batch)

    async def consume(
        self,
        topic_name: str,
        consumer_id: int,
        max_messages: int = 1,
        wait_ms: int = 0,
        *,
        caller: Caller,
        gone: asyncio.Event | None = None,
    ) -> list[StoredMessage]:
        """Read up to ``max_messages``; with nothing new, wait up to ``wait_ms`` for a produce.

        ``gone`` is set when the client disconnects: a long poll then stops waiting and
        reads nothing more, so no message moves the offset for a client that cannot get it.
        """
        poll = await self._poll(topic_name, consumer_id, max_messages, caller)
        found = await self._consume(poll, self._repo.read_next, wait_ms, gone)
        return found or []

    async def consume_encoded(
        self,
        topic_name: str,
        consumer_id: int,
        max_messages: int,
        wait_ms: int = 0,
        *,
        caller: Caller,
        gone: asyncio.Event | None = None,
    ) -> EncodedMessages:
        """``consume`` for a batch, answered as the JSON array of its messages."""
        poll = await self._poll(topic_name, consumer_id, max_messages, caller)
        found = await self._consume(poll, self._repo.read_next_encoded, wait_ms, gone)
        return found or EncodedMessages(0, b"[]")

    async def _poll(
        self, topic_name: str, consumer_id: int, max_messages: int, caller: Caller
    ) -> "_Poll":
        if max_messages > self._max_batch:
            raise InvalidRequest.for_field("max_messages", f"must be at most {self._max_batch}")
        topic_id = await self._consumer_topic_id(topic_name, consumer_id, caller)
        return _Poll(topic_name, topic_id, consumer_id, max_messages, caller)

    async def _consume(
        self, poll: "_Poll", read: _Reader[_Batch], wait_ms: int, gone: asyncio.Event | None
    ) -> _Batch | None:
        """One read, or a long poll of reads; None when a long poll ended without one."""
        if wait_ms <= 0:
            found: _Batch | None = await self._read(poll, read)
        else:
            found = await self._long_poll(poll, read, wait_ms / 1000, gone or asyncio.Event())
        if found:
            self._observer.consumed(poll.topic_name, len(found))
        return found

    async def _long_poll(
        self, poll: "_Poll", read: _Reader[_Batch], wait_s: float, gone: asyncio.Event
    ) -> _Batch | None:
        """Only the poll holding its consumer's turn reads and waits for produces; a parked
        poll (waiting for a wake-up or for the turn) holds a waiter slot.

        What remains: a client that leaves during the read itself, or while the answer is
        on its way, has its messages consumed all the same (at-most-once).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        with contextlib.ExitStack() as parked:
            slotted = self._turns.busy(poll.consumer_id)
            if slotted:
                parked.enter_context(self.wakeups.slot())
            async with self._turns.take(poll.consumer_id, wait_s, gone) as my_turn:
                while my_turn:
                    woken = self.wakeups.current(poll.topic_id)  # before the read: no lost wake-up
                    if gone.is_set():
                        break
                    found = await self._read(poll, read)
                    left = deadline - loop.time()
                    if found or left <= 0 or self.wakeups.closed:
                        return found
                    if not slotted:
                        parked.enter_context(self.wakeups.slot())
                        slotted = True
                    await self.wakeups.wait_in_slot(woken, left, gone)
        return None

    async def _read(self, poll: "_Poll", read: _Reader[_Batch]) -> _Batch:
        found = await read(
            poll.topic_id, poll.consumer_id, poll.max_messages, self._max_batch_bytes
        )
        if found is None:
            await self._gone(poll)
        return found

    async def _gone(self, poll: "_Poll") -> NoReturn:
        """A read found no consumer row: the consumer or its whole topic was deleted, here
        or by another process; a fresh look tells which (404 either way)."""
        self._consumers.forget(poll.consumer_id)
        self._topic_ids.pop(poll.topic_name, None)
        await self._consumer_topic_id(poll.topic_name, poll.consumer_id, poll.caller)
        raise ConsumerNotFound(poll.consumer_id)

    async def remaining(self, topic_name: str, consumer_id: int, *, caller: Caller) -> int:
        await self._consumer_topic_id(topic_name, consumer_id, caller)
        remaining = await self._repo.remaining(consumer_id)
        if remaining is None:
            self._consumers.forget(consumer_id)
            raise ConsumerNotFound(consumer_id)
        return remaining

    async def _consumer_topic_id(self, topic_name: str, consumer_id: int, caller: Caller) -> int:
        return await self._bound_topic_id(self._consumers, consumer_id, topic_name, caller)

    def _committer(self, topic_id: int, topic_name: str) -> GroupCommitter:
        committer = self._committers.get(topic_id)
        if committer is None:

            async def write(requests: Sequence[AppendRequest]) -> list[AppendOutcome]:
                outcomes = await self._repo.append(topic_id, requests)
                if outcomes is None:
                    self._forget_topic(topic_name, topic_id)
                    raise TopicNotFound(topic_name)
                stored = sum(o.count for o in outcomes if o.outcome == "stored")
                if stored:
                    self._committed(topic_id, topic_name, stored)
                return outcomes

            committer = self._committers[topic_id] = GroupCommitter(write)
        return committer

    def _committed(self, topic_id: int, topic_name: str, count: int) -> None:
        self.wakeups.notify(topic_id)
        self._observer.committed(topic_name, count)

    async def _find_topic(self, name: str) -> TopicRecord | None:
        bind_log_fields(topic=name)
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

    async def _get_or_create(self, name: str, caller: Caller) -> TopicRecord:
        """Two registrations racing to create one topic both end up with the same row."""
        caller.require_admin(f"Topic '{name}' does not exist; creating it")
        topic = await self._repo.create_topic(name) or await self._repo.get_topic(name)
        if topic is None:
            raise TopicNotFound(name)
        self._topic_ids[name] = topic.id
        return topic

    @property
    def stopping(self) -> asyncio.Event:
        """Set once the server is going down; waits (long polls, retention) end early on it."""
        return self._stopping

    def begin_shutdown(self) -> None:
        """Called on SIGTERM, before uvicorn waits for in-flight requests to finish."""
        if not self._stopping.is_set():
            logger.info("shutting down: waking waiting requests")
            self._stopping.set()
            self.wakeups.close()

    async def shutdown(self) -> None:
        """Wake every waiter, then let in-flight group commits finish before the pool closes."""
        self.begin_shutdown()
        await asyncio.gather(*(c.drain() for c in list(self._committers.values())))

    async def topic_details(self, name: str, page: ClientsPage | None = None) -> TopicDetails:
        bind_log_fields(topic=name)
        details = await self._repo.topic_details(name, page or ClientsPage())
        if details is None:
            raise TopicNotFound(name)
        return details

    async def delete_topic(self, name: str, *, caller: Caller) -> None:
        """Remove the topic with its messages, producers and consumers."""
        bind_log_fields(topic=name)
        caller.require_admin("Deleting a topic")
        topic_id = await self._repo.delete_topic(name)
        if topic_id is None:
            raise TopicNotFound(name)
        self._forget_topic(name, topic_id)
        self.wakeups.notify(topic_id)  # its long polls answer 404 now, not at their timeout
        self._observer.topic_deleted(name)

    async def delete_producer(self, producer_id: int, *, caller: Caller) -> None:
        """Remove a producer (its messages stay): by the key that registered it, or an
        admin key. A produce already under way may still be stored; none after it is."""
        binding = await self._repo.producer_topic(producer_id)
        if binding is None:
            raise ProducerNotFound(producer_id)
        caller.check_owner("producer", producer_id, binding.owner)
        deleted = await self._repo.delete_producer(producer_id)
        self._producers.forget(producer_id)
        if not deleted:
            raise ProducerNotFound(producer_id)

    async def delete_consumer(self, consumer_id: int, *, caller: Caller) -> None:
        """Remove a consumer, by the key that registered it or an admin key; its long
        polls (here and in other processes) wake and answer 404."""
        binding = await self._repo.consumer_topic(consumer_id)
        if binding is None:
            raise ConsumerNotFound(consumer_id)
        caller.check_owner("consumer", consumer_id, binding.owner)
        topic_id = await self._repo.delete_consumer(consumer_id)
        self._consumers.forget(consumer_id)
        if topic_id is None:
            raise ConsumerNotFound(consumer_id)
        self.wakeups.notify(topic_id)

    def cached_entries(self) -> dict[str, int]:
        """How full each per-process cache is (each holds at most LOGQUEUE_CACHE_ENTRIES);
        wake-up events and consumer turns exist only while a long poll holds them."""
        return {
            "topics": len(self._topic_ids),
            "producers": len(self._producers),
            "consumers": len(self._consumers),
            "wakeups": self.wakeups.entries,
            "turns": len(self._turns),
        }

    async def consumer_lag(self, limit: int) -> LagReport:
        return await self._repo.consumer_lag(limit)

    def _forget_topic(self, name: str, topic_id: int) -> None:
        """Drop every cached fact about a topic that is gone."""
        if self._topic_ids.get(name) == topic_id:
            del self._topic_ids[name]
        self._committers.pop(topic_id, None)
        self._producers.forget_topic(topic_id)
        self._consumers.forget_topic(topic_id)

    async def _bound_topic_id(
        self, bindings: _Bindings, client_id: int, topic_name: str, caller: Caller
    ) -> int:
        """The topic's id, once the client is known to be registered for it (and to the
        caller's key, when access control is on).

        Another server process may have deleted the topic and made a new one of the same
        name, which this process's cache would still map to the old id; a mismatch is
        therefore checked once more against a fresh lookup before it becomes a 403.
        """
        topic_id = await self._topic_id(topic_name)
        try:
            await bindings.check(client_id, topic_name, topic_id, caller)
        except WrongTopic:
            self._topic_ids.pop(topic_name, None)
            fresh = await self._topic_id(topic_name)
            if fresh == topic_id:
                raise
            self._forget_topic(topic_name, topic_id)
            await bindings.check(client_id, topic_name, fresh, caller)
            return fresh
        return topic_id
