"""Synchronous flavour, for scripts and threads: the same API as ``_async``, on ``httpx.Client``.

Request shapes, retry timing and answer parsing live in ``_base``; this is only the I/O.
Producers and consumers may be used from several threads; ``stop()`` may come from any.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import httpx

from logqueue_sdk import _base
from logqueue_sdk._base import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BROKER,
    DEFAULT_MAX_WAIT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Call,
    Inbox,
    RetryPolicy,
    Role,
    Rotation,
)
from logqueue_sdk.errors import BrokerUnavailable, InvalidRequest, Stopped, TopicExists
from logqueue_sdk.models import BrokerStatus, Message

logger = logging.getLogger("logqueue_sdk")


class Client:
    """Topic administration and the one connection pool a producer or consumer talks through.

    ``broker`` may omit the scheme (``localhost:8000``). Safe calls are retried with
    exponential backoff after connection errors and 5xx answers; ``retries`` is the number
    of repeats (or a ``RetryPolicy``). ``api_key`` (default: ``$LOGQUEUE_API_KEY``) is sent
    as a bearer token, for brokers with access control on.
    """

    def __init__(
        self,
        broker: str = DEFAULT_BROKER,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
    ) -> None:
        self.broker = _base.normalise_broker(broker)
        self._timeout = timeout
        self._policy = _base.as_policy(retries)
        headers = _base.auth_headers(api_key)
        self._http = httpx.Client(base_url=self.broker, timeout=timeout, headers=headers)

    def status(self) -> BrokerStatus:
        """The broker's health; ``healthy`` is False when it cannot reach its database."""
        return _base.parse_status(self._request(_base.status_call()))

    def list_topics(self) -> list[str]:
        """All topic names, oldest first."""
        return _base.parse_topics(self._request(_base.list_topics_call()))

    def create_topic(self, name: str, *, exist_ok: bool = False) -> bool:
        """True if the topic was created; False if it existed and ``exist_ok``, else TopicExists."""
        try:
            self._request(_base.create_topic_call(name))
        except TopicExists:
            if exist_ok:
                return False
            raise
        return True

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.close()

    def _request(self, call: Call, stop: threading.Event | None = None) -> dict[str, Any]:
        """Send ``call`` with the retries it allows; ``stop`` cuts a retry wait short."""
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    timeout=self._timeout + call.wait,
                )
            except httpx.TransportError as exc:
                delay = _base.retry_after_error(self._policy, call, attempt, exc)
                if delay is None:
                    raise _base.unavailable(self.broker, call, exc) from exc
            else:
                retry_after = response.headers.get("retry-after")
                delay = _base.retry_after_status(
                    self._policy, call, attempt, response.status_code, retry_after
                )
                if delay is None:
                    return _base.interpret(response.status_code, response.content)
            attempt += 1
            if stop is None:
                time.sleep(delay)
            elif stop.wait(delay):
                raise Stopped("stopped while waiting to retry")


class _Gate:
    """Counts requests in flight, so ``stop()`` can wait for them before closing the pool."""

    def __init__(self, role: Role) -> None:
        self._role = role
        self._changed = threading.Condition()
        self.busy = 0
        self.closed = False

    @contextmanager
    def open(self) -> Iterator[None]:
        with self._changed:
            if self.closed:
                raise Stopped(f"the {self._role} is stopped")
            self.busy += 1
        try:
            yield
        finally:
            with self._changed:
                self.busy -= 1
                self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.wait_for(lambda: self.busy == 0)


class _Registrations:
    """The id this client holds for each topic, registering on first use (once per topic)."""

    def __init__(self, client: Client, role: Role, known: Mapping[str, int]) -> None:
        self._client = client
        self._role = role
        self._lock = threading.Lock()
        self.ids: dict[str, int] = dict(known)

    def register(self, topic: str, stop: threading.Event) -> int:
        body = self._client._request(_base.register_call(self._role, topic), stop)
        self.ids[topic] = _base.parse_id(body, self._role)
        return self.ids[topic]

    def id_for(self, topic: str, stop: threading.Event) -> int:
        with self._lock:
            known = self.ids.get(topic)
            return known if known is not None else self.register(topic, stop)


def _register_all(owner: "Producer | Consumer", topics: Iterable[str]) -> None:
    """Constructors register at once; if that fails, the pool is released, not leaked."""
    try:
        for topic in topics:
            owner.register(topic)
    except BaseException:
        owner.client.close()
        raise


class Producer:
    """Sends messages to topics, registering itself on each topic on first use.

    ``Producer(topics=["topic1"], broker="localhost:8000")`` registers on the listed topics
    at once (creating them if needed). A send is never repeated once it may have reached the
    broker, so a message is never stored twice behind your back.
    """

    def __init__(
        self,
        broker: str = DEFAULT_BROKER,
        topics: Iterable[str] | None = None,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
    ) -> None:
        self.client = Client(broker, api_key=api_key, timeout=timeout, retries=retries)
        self._registrations = _Registrations(self.client, "producer", {})
        self._gate = _Gate("producer")
        self._stopped = threading.Event()
        self._reachable = True
        self._batches: bool | None = None
        _register_all(self, topics or ())

    @property
    def topic_id_map(self) -> dict[str, int]:
        """Producer id per topic."""
        return self._registrations.ids

    def register(self, topic: str) -> int:
        """Register a new producer id for ``topic`` (created if missing) and use it from now on."""
        with self._gate.open():
            return self._registrations.register(topic, self._stopped)

    def can_send(self) -> bool:
        """False once stopped, or while the broker was unreachable on the last attempt."""
        return self._reachable and not self._stopped.is_set()

    def send(self, topic: str, message: str | bytes) -> bool:
        """Append one message; True once the broker has committed it.

        False if the producer is stopped or the broker could not be reached (``can_send()``
        turns False; if the request had left, the message may still have been stored).
        Bytes must be UTF-8. Refusals (too large, empty, ...) raise ``LogQueueError``.
        """
        text = _base.message_text(message)
        return self._deliver(lambda pid: self._produce(_base.produce_call(topic, pid, text)), topic)

    def send_batch(self, topic: str, messages: Iterable[str | bytes]) -> bool:
        """Append several messages in order, in one request where the broker supports it
        (then all or none are stored); otherwise one by one, stopping at the first failure."""
        texts = [_base.message_text(message) for message in messages]
        if not texts:
            return True
        return self._deliver(lambda pid: self._produce_batch(topic, pid, texts), topic)

    def stop(self) -> None:
        """Refuse new sends, wait for the ones in flight, then close the connection pool."""
        self._stopped.set()
        self._gate.close()
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.stop()

    def _deliver(self, produce: Callable[[int], None], topic: str) -> bool:
        try:
            with self._gate.open():
                produce(self._registrations.id_for(topic, self._stopped))
        except Stopped:
            return False
        except BrokerUnavailable as exc:
            self._reachable = False
            logger.warning("message to %r not confirmed: %s", topic, exc.message)
            return False
        self._reachable = True
        return True

    def _produce(self, call: Call) -> None:
        self.client._request(call, self._stopped)

    def _produce_batch(self, topic: str, producer_id: int, texts: Sequence[str]) -> None:
        if self._batches is not False:
            try:
                self._produce(_base.produce_batch_call(topic, producer_id, texts))
            except InvalidRequest as exc:
                if not _base.batch_unsupported(exc):
                    raise
                self._batches = False
            else:
                self._batches = True
                return
        for text in texts:
            self._produce(_base.produce_call(topic, producer_id, text))


class Consumer:
    """Reads topics in order, each at this consumer's own offset.

    Registers a new consumer on each of ``topics`` (they must exist), unless
    ``consumer_ids`` gives the id to resume with. ``get_next()`` (or iterating the consumer)
    round-robins the topics until ``stop()``, which may be called from another thread.
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
        self._registrations = _Registrations(self.client, "consumer", consumer_ids or {})
        self._topics = list(dict.fromkeys([*topics, *self._registrations.ids]))
        self._inbox = Inbox(batch_size)
        self._max_wait = _base.require_positive(max_wait, "max_wait")
        self._gate = _Gate("consumer")
        self._stopped = threading.Event()
        _register_all(self, [t for t in self._topics if t not in self._registrations.ids])

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
            body = self.client._request(_base.consume_call(topic, consumer_id), self._stopped)
        messages, _ = _base.parse_consumed(topic, body)
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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.stop()

    def _fetch(self, topic: str, wait: float) -> None:
        if wait and not self._inbox.long_polls and self._stopped.wait(wait):
            return
        with self._gate.open():
            consumer_id = self._registrations.id_for(topic, self._stopped)
            call = self._inbox.fetch_call(topic, consumer_id, wait)
            self._inbox.accept(topic, self.client._request(call, self._stopped))
