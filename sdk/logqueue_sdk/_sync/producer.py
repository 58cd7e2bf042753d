# Generated from sdk/logqueue_sdk/_async/producer.py by scripts/unasync.py; edit that file.
"""A producer: numbered, retried sends to any number of topics."""

import logging
from collections.abc import Callable, Iterable

from logqueue_sdk import _base
from logqueue_sdk._base import (
    DEFAULT_BROKER,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Call,
    RetryPolicy,
    Sequencer,
)
from logqueue_sdk.errors import BrokerUnavailable, LogQueueError, Stopped

from ._lifecycle import Lifecycle
from ._primitives import Event, Lock
from .client import Client
from .gate import Gate
from .registrations import Registrations

logger = logging.getLogger("logqueue_sdk")


class Producer(Lifecycle):
    """Sends messages to topics, registering itself on each topic on first use.

    It registers on the listed ``topics`` (creating them if needed) when started: the
    threaded ``Producer(topics=["topic1"], broker="localhost:8000")`` in its constructor,
    the asyncio one on ``start()`` or ``with`` (or first use). Sends carry a sequence
    number per producer id, so the broker recognises a repeat: a send that got no answer is
    retried, and if the retries run out it is kept and sent again before the next message
    to that topic. Either way it is stored exactly once; never send it again yourself.
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
        self._topics = list(topics or ())
        self._registrations = Registrations(self.client, "producer", {})
        self._gate = Gate("producer")
        self._stopped = Event()
        self._reachable = True
        self._sequencer = Sequencer()
        self._send_locks: dict[int, Lock] = {}
        self._begin()

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
        return self._deliver(topic, lambda pid: _base.produce_call(topic, pid, text))

    def send_batch(self, topic: str, messages: Iterable[str | bytes]) -> bool:
        """Append several messages in order, in one request: all or none are stored.
        True and False mean what they mean for ``send``: on False the batch is kept."""
        texts = [_base.message_text(message) for message in messages]
        if not texts:
            return True
        return self._deliver(topic, lambda pid: _base.produce_batch_call(topic, pid, texts))

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

    def _register_listed(self) -> None:
        for topic in self._topics:
            with self._gate.open():
                self._registrations.id_for(topic, self._stopped)

    def _deliver(self, topic: str, call_for: Callable[[int], Call]) -> bool:
        try:
            with self._gate.open():
                producer_id = self._registrations.id_for(topic, self._stopped)
        except Stopped:
            return False
        except BrokerUnavailable:
            self._reachable = False
            raise
        call = call_for(producer_id)
        return self._attempt(lambda: self._produce(producer_id, call), f"message to {topic!r}")

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

    def _send_lock(self, producer_id: int) -> Lock:
        """One lock per producer id: its produces must reach the broker one at a time, in
        order, or their sequences would arrive out of order (409)."""
        return self._send_locks.setdefault(producer_id, Lock())

    def _produce(self, producer_id: int, call: Call) -> None:
        with self._send_lock(producer_id):
            self._sequencer.keep(producer_id, call)
            self._drain(producer_id, call)

    def _drain_all(self) -> None:
        for producer_id in self._sequencer.holding():
            with self._send_lock(producer_id):
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
