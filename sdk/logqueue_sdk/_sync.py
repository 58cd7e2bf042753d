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
    Sequencer,
    StreamCursor,
    StreamStart,
)
from logqueue_sdk.errors import (
    BrokerUnavailable,
    InvalidRequest,
    LogQueueError,
    Stopped,
    TopicExists,
)
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

    def stream(self, topic: str, *, start: StreamStart = "latest") -> Iterator[Message]:
        """Every message of ``topic`` from ``start`` on, as it is produced (Server-Sent Events).

        ``start`` is ``"latest"`` (messages produced from now on), ``"earliest"`` or an
        offset. Read-only: no consumer moves. A dropped connection or a restarting broker is
        reconnected by itself, resuming right after the last message handed out, so none is
        lost or repeated; ``retries`` bounds the failed reconnections in a row. Runs until
        the caller stops iterating; raises ``TopicNotFound`` if the topic does not exist.
        """
        cursor = StreamCursor(topic, start)
        attempt = 0
        while True:
            call = cursor.call()
            try:
                with self._http.stream(
                    call.method,
                    call.path,
                    params=call.params,
                    headers=cursor.headers(),
                    timeout=httpx.Timeout(self._timeout, read=_base.STREAM_READ_TIMEOUT),
                ) as response:
                    if response.status_code == 200:
                        attempt = 0
                        for line in response.iter_lines():
                            message = cursor.feed(line)
                            if message is not None:
                                yield message
                    else:
                        response.read()
            except httpx.TransportError as exc:
                delay = _base.retry_stream(self._policy, attempt, None)
                if delay is None:
                    raise _base.unavailable(self.broker, call, exc) from exc
            else:
                delay = _base.retry_stream(self._policy, attempt, response.status_code)
                if delay is None:
                    _base.interpret(response.status_code, response.content)
                    raise LogQueueError("The broker ended the stream", response.status_code)
            cursor.reconnecting()
            attempt += 1
            time.sleep(delay)

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


class _SendLocks:
    """One lock per producer id: its produces must reach the broker one at a time, in order,
    or their sequences would arrive out of order (409)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}

    def for_id(self, producer_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(producer_id, threading.Lock())


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
    at once (creating them if needed). Sends carry a sequence number per producer id, so the
    broker recognises a repeat: a send that got no answer is retried, and if the retries run
    out it is kept and sent again before the next message to that topic. Either way it is
    stored exactly once; never send it again yourself.
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
        self._sequencer = Sequencer()
        self._send_locks = _SendLocks()
        _register_all(self, topics or ())

    @property
    def topic_id_map(self) -> dict[str, int]:
        """Producer id per topic."""
        return self._registrations.ids

    def register(self, topic: str) -> int:
        """Register a new producer id for ``topic`` (created if missing) and use it from now on.

        The new id numbers its sends from 0; messages kept under the old id go out on the
        next ``flush()``.
        """
        with self._gate.open():
            return self._registrations.register(topic, self._stopped)

    def can_send(self) -> bool:
        """False once stopped, or while the broker was unreachable on the last attempt."""
        return self._reachable and not self._stopped.is_set()

    def send(self, topic: str, message: str | bytes) -> bool:
        """Append one message; True once the broker has committed it (and every message
        kept for this topic before it).

        False if the producer is stopped, or if the broker gave no answer within the retries:
        then ``can_send()`` turns False and the message is kept, to be sent again (with its
        sequence, so it is stored once) before the next message to ``topic`` or by
        ``flush()``; do not send it again yourself. Bytes must be UTF-8. Refusals (too large,
        empty, ...) raise ``LogQueueError`` and store nothing; ``BrokerUnavailable`` is raised
        when a first send to a new topic cannot register (nothing was sent).
        """
        text = _base.message_text(message)
        return self._deliver(
            lambda pid: self._produce(pid, _base.produce_call(topic, pid, text)), topic
        )

    def send_batch(self, topic: str, messages: Iterable[str | bytes]) -> bool:
        """Append several messages in order, in one request where the broker supports it
        (then all or none are stored); otherwise one by one, stopping at the first failure.
        True and False mean what they mean for ``send``: on False the batch is kept."""
        texts = [_base.message_text(message) for message in messages]
        if not texts:
            return True
        return self._deliver(lambda pid: self._produce_batch(topic, pid, texts), topic)

    def flush(self) -> bool:
        """Send the messages kept after sends that returned False; True once none is left.

        Call it before ``stop()`` when the last sends may have failed: ``stop()`` drops them.
        """
        return self._attempt(self._drain_all, "kept messages")

    def stop(self) -> None:
        """Refuse new sends, wait for the ones in flight, then close the connection pool."""
        self._stopped.set()
        self._gate.close()
        self.client.close()
        if kept := self._sequencer.kept():
            logger.warning("stopped with %d unconfirmed send(s) kept and not delivered", kept)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self.stop()

    def _deliver(self, produce: Callable[[int], None], topic: str) -> bool:
        try:
            producer_id = self._id_for(topic)
        except Stopped:
            return False
        except BrokerUnavailable:
            self._reachable = False
            raise
        return self._attempt(lambda: produce(producer_id), f"message to {topic!r}")

    def _id_for(self, topic: str) -> int:
        with self._gate.open():
            return self._registrations.id_for(topic, self._stopped)

    def _attempt(self, work: Callable[[], None], what: str) -> bool:
        """Run ``work`` (sends of kept calls); False when stopped or the broker is unreachable."""
        try:
            with self._gate.open():
                work()
        except Stopped:
            return False
        except BrokerUnavailable as exc:
            self._reachable = False
            logger.warning("%s not confirmed, kept to send again: %s", what, exc.message)
            return False
        self._reachable = True
        return True

    def _produce(self, producer_id: int, call: Call) -> None:
        with self._send_locks.for_id(producer_id):
            self._sequencer.keep(producer_id, call)
            self._drain(producer_id, call)

    def _drain_all(self) -> None:
        for producer_id in self._sequencer.holding():
            with self._send_locks.for_id(producer_id):
                self._drain(producer_id)

    def _drain(self, producer_id: int, own: Call | None = None) -> None:
        """Send the id's kept calls, oldest first, until none is left or one gets no answer.

        A refusal of ``own`` is the caller's to handle; one of an older kept call (its sender
        was already told False) can only be logged.
        """
        while (call := self._sequencer.first(producer_id)) is not None:
            try:
                self.client._request(call, self._stopped)
            except (BrokerUnavailable, Stopped):
                raise
            except LogQueueError as exc:
                if self._sequencer.refused(producer_id) is own:
                    raise
                logger.warning("a kept message was refused and dropped: %s", exc.message)
            else:
                self._sequencer.confirmed(producer_id)

    def _produce_batch(self, topic: str, producer_id: int, texts: Sequence[str]) -> None:
        if self._batches is not False:
            try:
                self._produce(producer_id, _base.produce_batch_call(topic, producer_id, texts))
            except InvalidRequest as exc:
                if not _base.batch_unsupported(exc):
                    raise
                self._batches = False
            else:
                self._batches = True
                return
        for text in texts:
            self._produce(producer_id, _base.produce_call(topic, producer_id, text))


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
