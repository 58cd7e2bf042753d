"""A producer: messages queued from any number of callers, coalesced by a background sender
into numbered batch produces, retried until the broker answers."""

import logging
from collections import deque
from collections.abc import Iterable
from functools import partial
from typing import Any

from logqueue_sdk import _base
from logqueue_sdk._base import (
    DEFAULT_BROKER,
    DEFAULT_LINGER,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_QUEUED,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    IN_FLIGHT,
    Call,
    RetryPolicy,
)
from logqueue_sdk._outbox import Entry, Outbox, Verdict
from logqueue_sdk.errors import BrokerUnavailable, LogQueueError, Stopped

from ._lifecycle import Lifecycle
from ._primitives import (
    Background,
    Condition,
    Event,
    Future,
    Futures,
    Handle,
    Workers,
    outcome_of,
    result_of,
    wait_for,
)
from .client import AsyncClient
from .gate import Gate
from .registrations import Registrations

logger = logging.getLogger("logqueue_sdk")


class AsyncProducer(Lifecycle):
    """Sends messages to topics, registering itself on each topic on first use.

    It registers on the listed ``topics`` (creating them if needed) when started: the
    threaded ``Producer(topics=["topic1"], broker="localhost:8000")`` in its constructor,
    the asyncio one on ``start()`` or as a context manager (or on first use).

    Every message goes through a queue to one background sender, which coalesces what has
    queued (waiting up to ``linger`` seconds for more, at most ``max_batch`` messages) into
    one batch produce per producer id, so concurrent ``send()`` calls and ``produce()`` in a
    loop share requests. Each request carries the producer id's next sequence number, so the
    broker recognises a repeat: a request that got no answer is retried with the same
    number, and if the retries run out it is kept and sent again before the next one for
    that topic. Either way it is stored exactly once and in order; never send it yourself
    again. At most ``max_queued`` messages wait for the broker: ``produce()`` and ``send()``
    block until there is room.
    """

    def __init__(
        self,
        broker: str = DEFAULT_BROKER,
        topics: Iterable[str] | None = None,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
        linger: float = DEFAULT_LINGER,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_queued: int = DEFAULT_MAX_QUEUED,
    ) -> None:
        self._linger = _base.require_not_negative(linger, "linger")
        self._outbox: Outbox[Future[bool]] = Outbox(max_batch, max_queued)
        self._futures = Futures()
        self._workers: Workers[dict[str, Any] | LogQueueError] = Workers(
            IN_FLIGHT, "logqueue-producer-request"
        )
        self.client = AsyncClient(broker, api_key=api_key, timeout=timeout, retries=retries)
        self._topics = list(topics or ())
        self._registrations = Registrations(self.client, "producer", {})
        self._gate = Gate("producer")
        self._stopped = Event()
        self._reachable = True
        self._changed = Condition()
        self._closing = False
        self._busy = False
        """Someone (the sender, or a ``send()`` that found all idle) is sending."""
        self._rounds_asked = 0
        self._rounds_done = 0
        self._sender: Background | None = None
        self._begin()

    @property
    def topic_id_map(self) -> dict[str, int]:
        """Producer id per topic."""
        return self._registrations.ids

    async def register(self, topic: str) -> int:
        """Register a new producer id for ``topic`` (created if missing) and use it from now on.

        The new id numbers its sends from 0; messages kept under the old id go out on the
        next ``flush()``.
        """
        async with self._gate.open():
            return await self._registrations.register(topic, self._stopped)

    def can_send(self) -> bool:
        """False once stopped, or while the broker was unreachable on the last attempt."""
        return self._reachable and not self._stopped.is_set()

    async def produce(self, topic: str, message: str | bytes) -> Future[bool]:
        """Queue one message and return at once (once there is room) a future of what
        ``send()`` would return: True once committed, False if stopped or not confirmed
        (kept and sent again, as for ``send()``); a refusal is its exception.

        Messages of one producer are stored in the order they were queued. Call ``flush()``
        (or ``stop()``) to wait for all of them.
        """
        return await self._queue(topic, [_base.message_text(message)], False)

    async def send(self, topic: str, message: str | bytes) -> bool:
        """Append one message; True once the broker has committed it (and every message
        queued for this topic before it).

        False if the producer is stopped, or if the broker gave no answer within the retries:
        then ``can_send()`` turns False and the message is kept, to be sent again (with its
        sequence, so it is stored once) before the next message to ``topic`` or by
        ``flush()``; do not send it again yourself. Bytes must be UTF-8. Refusals (too large,
        empty, ...) raise ``LogQueueError`` and store nothing; ``BrokerUnavailable`` is raised
        when a first send to a new topic cannot register (nothing was sent).
        """
        return await result_of(await self._queue(topic, [_base.message_text(message)], True))

    async def send_batch(self, topic: str, messages: Iterable[str | bytes]) -> bool:
        """Append several messages in order, in one request: all or none are stored.
        True and False mean what they mean for ``send``: on False the batch is kept."""
        texts = [_base.message_text(message) for message in messages]
        if not texts:
            return True
        return await result_of(await self._queue(topic, texts, True))

    async def flush(self) -> bool:
        """Wait until everything queued is answered, and send again what was kept after
        sends that returned False; True once nothing is kept."""
        async with self._changed:
            if self._closing:
                return not self._outbox.kept()
            self._rounds_asked += 1
            round_ = self._rounds_asked
            self._start_sender()
            self._changed.notify_all()
            await self._changed.wait_for(lambda: self._rounds_done >= round_)
            return not self._outbox.kept()

    async def stop(self) -> None:
        """Refuse new messages, send what is queued (one attempt each: retry waits are cut
        short), then close the connection pool. What is kept after sends that returned False
        is dropped, with a warning: call ``flush()`` first to send it again, and to wait out
        a broker restart."""
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._stopped.set()
        if self._sender is not None:
            await self._sender.join()
        await self._workers.close()
        await self._gate.close()
        await self.client.aclose()
        if kept := self._outbox.kept():
            logger.warning("stopped with %d unconfirmed message(s) not delivered", kept)

    async def _register_listed(self) -> None:
        for topic in self._topics:
            async with self._gate.open():
                await self._registrations.id_for(topic, self._stopped)

    async def _queue(self, topic: str, texts: list[str], waits: bool) -> Future[bool]:
        """Queue ``texts`` as one entry. A caller that ``waits`` for the answer anyway
        (``send()``, ``send_batch()``) and finds everything idle sends it itself: handing it
        to the sender and back cost two thread wake-ups a request."""
        done = self._futures.new()
        producer_id = self._registrations.ids.get(topic)
        if producer_id is None:
            try:
                async with self._gate.open():
                    producer_id = await self._registrations.id_for(topic, self._stopped)
            except Stopped:
                done.set_result(False)
                return done
            except BrokerUnavailable:
                self._reachable = False
                raise
        async with self._changed:
            # Read again under the lock: a refusal may have moved this id's calls to another.
            producer_id = self._registrations.ids.get(topic, producer_id)
            while not self._closing and not self._outbox.has_room(len(texts)):
                await self._wait_for_room(len(texts))
            inline = waits and self._idle()
            if self._closing:
                done.set_result(False)
            else:
                self._start_sender()
                if self._outbox.add(producer_id, Entry(topic, texts, done)) and not inline:
                    self._changed.notify_all()
            if inline:
                self._busy = True
                self._outbox.take()
        if inline:
            try:
                await self._drain(producer_id)
            finally:
                async with self._changed:
                    self._busy = False
                    self._changed.notify_all()
        return done

    def _idle(self) -> bool:
        """Nothing queued, kept or being sent, no ``flush()`` waiting, no ``linger`` asked."""
        return not (
            self._busy
            or self._closing
            or self._linger
            or self._outbox.queued
            or self._rounds_done < self._rounds_asked
        )

    async def _wait_for_room(self, count: int) -> None:
        """Full: wait for room, asking the sender to send again what it keeps (while the
        broker is unreachable, room comes only from there)."""
        self._rounds_asked += 1
        round_ = self._rounds_asked
        self._changed.notify_all()
        await self._changed.wait_for(
            lambda: self._outbox.has_room(count) or self._rounds_done >= round_ or self._closing
        )

    def _start_sender(self) -> None:
        if self._sender is None:
            self._sender = Background(self._send_all, "logqueue-producer-sender")

    async def _send_all(self) -> None:
        """The background sender: takes queued messages (each id in turn) or, when asked,
        the kept calls of every id, and sends them until ``stop()``."""
        while (work := await self._next_work()) is not None:
            producer_ids, round_ = work
            for producer_id in producer_ids:
                await self._drain(producer_id)
            async with self._changed:
                self._busy = False
                if round_:
                    self._rounds_done = round_
                self._changed.notify_all()
        async with self._changed:
            self._rounds_done = self._rounds_asked  # nobody waits on a sender that has ended
            self._changed.notify_all()

    async def _next_work(self) -> tuple[list[int], int] | None:
        """The ids to send for next, with the round of ``flush()`` it completes (0 for none);
        None once stopped and everything has had its attempt."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._has_work() and not self._busy)
            self._busy = True
            if self._outbox.waiting:
                if self._linger:
                    await wait_for(self._changed, self._hurried, self._linger)
                return [self._outbox.take()], 0
            if self._rounds_done < self._rounds_asked:
                return self._outbox.holding(), self._rounds_asked
            return None

    def _has_work(self) -> bool:
        return (
            bool(self._outbox.waiting) or self._rounds_done < self._rounds_asked or (self._closing)
        )

    def _hurried(self) -> bool:
        """Lingering ends early: a full batch waits, or someone waits for everything."""
        return (
            self._outbox.waiting >= self._outbox.max_batch
            or self._closing
            or self._rounds_done < self._rounds_asked
        )

    async def _drain(self, producer_id: int) -> None:
        """Send the id's taken calls, oldest first, until none is left or one gets no answer.

        Up to ``IN_FLIGHT`` calls are on the wire at once, each numbered one after the call
        before it (a call goes beside others only with a full batch, unless ``flush()`` or
        ``stop()`` waits), and their answers are taken oldest first. Why every message is
        then stored once, in ``produce()`` order:

        - The broker stores sequence ``n`` only right after ``n - 1``, so calls are stored
          in their order whatever order they arrive in, and a stored call means every call
          before it is stored. One that arrives before its predecessor is stored is refused
          with a 409 (nothing stored) and sent again once it is the oldest.
        - A call without an answer keeps its sequence and body, so sending it again is
          answered as a repeat (or, once a later call is stored too, with a 409 expecting a
          later sequence: ``Outbox.judge`` reads that as stored). A later call that was
          answered as stored confirms it.
        - Only a refusal (nothing stored) frees a sequence for other messages. If calls
          after the refused one were already on the wire, one of them may still reach the
          broker later (its answer was lost, but the request lives on in the broker); were
          its number reused, it would be stored after the new call at that number, twice,
          and the call meant for its number answered as a repeat, lost. So then the calls
          after it move to a newly registered producer id, numbered from 0, and the old id
          is never used again (``_refused``). After a refusal the rest of the round goes one
          call at a time, so that the halves of a split batch, looking for the message at
          fault, are not sent beside one another.
        """
        window: deque[_Sending] = deque()
        current: int | None = producer_id
        limit = IN_FLIGHT
        while current is not None:
            async with self._changed:
                self._fill(current, window, limit)
            if not window:
                return
            sending = window.popleft()
            outcome = await self._outcome(sending)
            async with self._changed:
                verdict = self._outbox.judge(current, outcome, sending.follower)
            if verdict is Verdict.STORED:
                await self._confirm(current, 1)
            elif verdict is Verdict.AGAIN:
                window.appendleft(_Sending(sending.call, follower=False))
                self._launch(window)
            else:
                current = await self._trouble(current, outcome, window)
                limit = 1

    def _fill(self, producer_id: int, window: "deque[_Sending]", limit: int) -> None:
        """Put the id's next calls on the wire until ``limit`` are, a call beside others only
        with a full batch unless ``flush()`` or ``stop()`` waits; one alone is sent by the
        sender itself (no hand-over for a lone ``send()``). The lock is held."""
        hurried = self._closing or self._rounds_done < self._rounds_asked
        while len(window) < limit:
            position = len(window)
            if position and not (hurried or self._outbox.full(producer_id, position)):
                break  # a call kept after no answer, say: it waits for the one before
            call = self._outbox.call_at(producer_id, position)
            if call is None and position and self._outbox.take_next(producer_id, full=not hurried):
                call = self._outbox.call_at(producer_id, position)
            if call is None:
                break
            window.append(_Sending(call, follower=position > 0))
        self._launch(window)

    def _launch(self, window: "deque[_Sending]") -> None:
        if len(window) > 1:
            for sending in window:
                if sending.handle is None:
                    sending.handle = self._workers.start(partial(self._attempt, sending.call))

    async def _outcome(self, sending: "_Sending") -> dict[str, Any] | LogQueueError:
        if sending.handle is None:
            return await self._attempt(sending.call)
        return await outcome_of(sending.handle)

    async def _attempt(self, call: Call) -> dict[str, Any] | LogQueueError:
        try:
            return await self.client._request(call, self._stopped)
        except LogQueueError as exc:
            return exc

    async def _confirm(self, producer_id: int, count: int) -> None:
        async with self._changed:
            confirmed = [e for _ in range(count) for e in self._outbox.confirmed(producer_id)]
            self._changed.notify_all()
        self._reachable = True
        self._futures.settle((entry.waiter for entry in confirmed), True)

    async def _trouble(
        self, producer_id: int, error: dict[str, Any] | LogQueueError, window: "deque[_Sending]"
    ) -> int | None:
        """The oldest call got no answer or was refused: hear out the calls after it, keep
        what they say was stored (a stored call means every one before it is), then go on
        with the id returned, or stop (None) when nothing was stored and none answered."""
        outcomes = [await self._outcome(later) for later in window]
        window.clear()
        stored = [i for i, outcome in enumerate(outcomes, start=1) if isinstance(outcome, dict)]
        if stored:
            await self._confirm(producer_id, stored[-1] + 1)
            return producer_id
        assert isinstance(error, LogQueueError)  # an answer is always STORED
        if isinstance(error, BrokerUnavailable | Stopped):
            await self._unanswered(producer_id, error)
            return None
        return await self._refused(producer_id, error)

    async def _refused(self, producer_id: int, error: LogQueueError) -> int | None:
        """The oldest call was refused (nothing stored): its messages hear why (a batch
        refused for its content is first split, to find the message at fault). If calls
        after it were on the wire, the rest moves to a new producer id (see ``_drain``);
        returns the id to go on with, None if that registration got no answer (everything
        is kept, and the refusal is heard again on the next attempt)."""
        new_id: int | None = None
        async with self._changed:
            moving = self._outbox.sent_beyond(producer_id)
            topic = self._outbox.topic_of(producer_id)
        if moving:
            try:
                body = await self.client._request(
                    _base.register_call("producer", topic), self._stopped
                )
            except LogQueueError as exc:
                await self._unanswered(producer_id, exc)
                return None
            new_id = _base.parse_id(body, "producer")
        async with self._changed:
            refused = self._outbox.refused(producer_id, error.code)
            if new_id is not None:
                self._outbox.move(producer_id, new_id)
                if self._registrations.ids.get(topic) == producer_id:
                    self._registrations.ids[topic] = new_id
            self._changed.notify_all()
        _refuse(refused, error)
        return producer_id if new_id is None else new_id

    async def _unanswered(self, producer_id: int, error: LogQueueError) -> None:
        """No answer within the retries (or stopped): the calls stay kept; their senders
        hear False."""
        self._reachable = False
        async with self._changed:
            unconfirmed = self._outbox.unconfirmed(producer_id)
        logger.warning(
            "%d message(s) not confirmed, kept to send again: %s",
            sum(len(entry.texts) for entry in unconfirmed),
            error.message,
        )
        self._futures.settle((entry.waiter for entry in unconfirmed), False)


def _refuse(entries: list[Entry[Future[bool]]], error: LogQueueError) -> None:
    for entry in entries:
        if entry.waiter.done():
            logger.warning("a kept message was refused and dropped: %s", error.message)
        else:
            entry.waiter.set_exception(error)


class _Sending:
    """A call on the wire: sent by the sender itself when ``handle`` is None, else beside
    others by a worker."""

    __slots__ = ("call", "follower", "handle")

    def __init__(self, call: Call, *, follower: bool) -> None:
        self.call = call
        self.follower = follower
        """Sent while an older call of its id was not yet confirmed."""
        self.handle: Handle[dict[str, Any] | LogQueueError] | None = None
