"""A producer's messages from the moment they are queued until the broker confirms or
refuses them: coalescing into batch produces, numbering, keeping what got no answer.

Pure (no I/O, no locks): the producer of each flavour holds its lock around every call and
does the sending, so the rules live here once.
"""

import enum
from collections import deque
from typing import Any, Generic, NamedTuple, TypeVar

from logqueue_sdk._base import Call, Sequencer, produce_batch_call, produce_call
from logqueue_sdk.errors import BrokerUnavailable, LogQueueError, SequenceConflict, Stopped

Waiter = TypeVar("Waiter")

SPLIT_ON = frozenset(
    {"invalid_request", "message_too_large", "batch_too_large", "request_too_large"}
)
"""The broker's codes for refusals of a request's content (malformed, too large): a coalesced
batch refused with one of these is split, so one bad message does not fail the sends queued
beside it."""


class Verdict(enum.Enum):
    """What an answer to the oldest call on the wire means for it."""

    STORED = "stored"
    """Stored, now or before: confirm it."""
    AGAIN = "again"
    """Reached the broker before its predecessors were stored; nothing stored: send again."""
    UNANSWERED = "unanswered"
    """No answer: stored or not, it is kept and sent again with its sequence."""
    REFUSED = "refused"
    """Refused, nothing stored."""


class Entry(NamedTuple, Generic[Waiter]):
    """One ``produce()``, ``send()`` or ``send_batch()``: its messages travel in one request,
    all stored or none, and ``waiter`` hears the outcome. A tuple, as one is made per
    ``produce()``: a frozen dataclass costs twice as much to build."""

    topic: str
    texts: list[str]
    waiter: Waiter


class Outbox(Generic[Waiter]):
    """Entries queued per producer id, then taken into numbered calls, oldest first.

    ``take`` coalesces the oldest queued entries of an id (up to ``max_batch`` messages, but
    never splitting an entry) into one call behind the id's unconfirmed ones; ``first`` is
    the call to send next, with the same sequence on every attempt, until ``confirmed`` or
    ``refused``. ``queued`` counts every message not yet confirmed or refused, queued or
    taken, which is what ``max_queued`` bounds.
    """

    def __init__(self, max_batch: int, max_queued: int) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if max_queued < 1:
            raise ValueError("max_queued must be at least 1")
        self.max_batch = max_batch
        self.max_queued = max_queued
        self.queued = 0
        self.waiting = 0
        """Messages queued and not taken yet."""
        self._queues: dict[int, deque[Entry[Waiter]]] = {}
        self._taken: dict[int, deque[list[Entry[Waiter]]]] = {}
        self._sequencer = Sequencer()
        self._sent: dict[int, int] = {}
        """The highest sequence each id has put on the wire."""

    def has_room(self, count: int) -> bool:
        """Whether ``count`` more messages fit; anything fits into an empty outbox, so a batch
        larger than ``max_queued`` is not refused for ever."""
        return self.queued == 0 or self.queued + count <= self.max_queued

    def add(self, producer_id: int, entry: Entry[Waiter]) -> bool:
        """Queue ``entry``; True if the sender should hear of it: the outbox had nothing
        waiting (an idle sender waits for that), or a full batch now waits (one lingering waits
        for that). Waking it for every message would hand the lock back and forth for nothing."""
        queue = self._queues.get(producer_id)
        if queue is None:
            queue = self._queues[producer_id] = deque()
        queue.append(entry)
        count = len(entry.texts)
        before = self.waiting
        self.queued += count
        self.waiting = before + count
        return before == 0 or before < self.max_batch <= self.waiting

    def take(self) -> int:
        """Coalesce the oldest queued entries of the next producer id (the ids take turns)
        into one call behind the id's taken ones; returns the id. Only while ``waiting``."""
        producer_id, queue = next(iter(self._queues.items()))
        batch = [queue.popleft()]
        count = len(batch[0].texts)
        while queue and count + len(queue[0].texts) <= self.max_batch:
            count += len(queue[0].texts)
            batch.append(queue.popleft())
        del self._queues[producer_id]
        if queue:
            self._queues[producer_id] = queue  # to the back
        self.waiting -= count
        self._keep(producer_id, [batch])
        return producer_id

    def take_next(self, producer_id: int, *, full: bool) -> bool:
        """Coalesce the id's oldest queued entries into one more call behind its taken ones,
        as ``take`` does; with ``full`` only if they fill a batch (nothing more would fit).
        True if a call was taken."""
        queue = self._queues.get(producer_id)
        if not queue:
            return False
        count = taken = 0
        for entry in queue:
            if count + len(entry.texts) > self.max_batch and taken:
                break
            count += len(entry.texts)
            taken += 1
        if full and taken == len(queue) and count < self.max_batch:
            return False
        batch = [queue.popleft() for _ in range(taken)]
        if not queue:
            del self._queues[producer_id]
        self.waiting -= count
        self._keep(producer_id, [batch])
        return True

    def full(self, producer_id: int, position: int) -> bool:
        """Whether the id's taken call at ``position`` holds a full batch; True where there
        is none yet (``take_next`` decides then)."""
        taken = self._taken.get(producer_id, ())
        if position >= len(taken):
            return True
        return sum(len(entry.texts) for entry in taken[position]) >= self.max_batch

    def first(self, producer_id: int) -> Call | None:
        """The id's oldest taken call, numbered: the same sequence and body on every attempt."""
        return self.call_at(producer_id, 0)

    def call_at(self, producer_id: int, position: int) -> Call | None:
        """The id's taken call at ``position`` (0 the oldest), numbered after those before
        it, to be put on the wire now."""
        call = self._sequencer.at(producer_id, position)
        if call is not None:
            sequence = self._sequencer.next(producer_id) + position
            self._sent[producer_id] = max(self._sent.get(producer_id, -1), sequence)
        return call

    def topic_of(self, producer_id: int) -> str:
        """The topic of the id's oldest taken call (an id is registered on one topic)."""
        return self._taken[producer_id][0][0].topic

    def sent_beyond(self, producer_id: int) -> bool:
        """Whether a call numbered after the oldest taken one has been on the wire."""
        return self._sent.get(producer_id, -1) > self._sequencer.next(producer_id)

    def judge(
        self, producer_id: int, outcome: dict[str, Any] | LogQueueError, follower: bool
    ) -> Verdict:
        """What ``outcome`` (the answer, or the error) of the id's oldest taken call means;
        ``follower``: it was sent while an older call was not yet confirmed.

        The broker stores a sequence only right after the one before it, so a 409 that
        expects a later sequence than this call's, up to one after the highest this id has
        sent, says this call was stored (its answer was lost, and a later one has been
        stored since). One that expects an earlier sequence, to a call sent beside an older
        one, says it arrived first: nothing was stored, and it goes again.
        """
        if isinstance(outcome, dict):
            return Verdict.STORED
        if isinstance(outcome, BrokerUnavailable | Stopped):
            return Verdict.UNANSWERED
        if isinstance(outcome, SequenceConflict) and outcome.expected is not None:
            sequence = self._sequencer.next(producer_id)
            if sequence < outcome.expected <= self._sent.get(producer_id, -1) + 1:
                return Verdict.STORED
            if follower and outcome.expected < sequence:
                return Verdict.AGAIN
        return Verdict.REFUSED

    def move(self, old_id: int, new_id: int) -> None:
        """Move the old id's taken calls and queued entries, in order, to a new id (numbered
        from its own 0): the old id is never sent on again."""
        batches = list(self._taken.pop(old_id, ()))
        self._sequencer.forget(old_id)
        self._sent.pop(old_id, None)
        queue = self._queues.pop(old_id, None)
        if queue:
            self._queues[new_id] = queue
        if batches:
            self._keep(new_id, batches)

    def confirmed(self, producer_id: int) -> list[Entry[Waiter]]:
        """The broker stored the oldest taken call: its entries, to be told so."""
        self._sequencer.confirmed(producer_id)
        return self._forget(producer_id)

    def refused(self, producer_id: int, code: str | None) -> list[Entry[Waiter]]:
        """The broker refused the oldest taken call and stored nothing. A coalesced batch
        refused for its content is split in two and retried (with the same sequence) to find
        the entry at fault: nothing to tell yet. Otherwise its entries, to be told why."""
        self._sequencer.refused(producer_id)
        entries = self._taken[producer_id].popleft()
        if len(entries) == 1 or code not in SPLIT_ON:
            self.queued -= sum(len(e.texts) for e in entries)
            return entries
        half = len(entries) // 2
        self._keep(producer_id, [entries[:half], entries[half:]], front=True)
        return []

    def unconfirmed(self, producer_id: int) -> list[Entry[Waiter]]:
        """Every entry of the id's taken calls (none got an answer): to be told False."""
        return [e for entries in self._taken.get(producer_id, ()) for e in entries]

    def holding(self) -> list[int]:
        """Producer ids with taken calls not yet confirmed."""
        return self._sequencer.holding()

    def kept(self) -> int:
        """Messages in taken calls not yet confirmed."""
        return sum(len(e.texts) for ids in self._taken.values() for es in ids for e in es)

    def _keep(
        self, producer_id: int, batches: list[list[Entry[Waiter]]], *, front: bool = False
    ) -> None:
        calls = [_call(producer_id, batch) for batch in batches]
        taken = self._taken.setdefault(producer_id, deque())
        if front:
            self._sequencer.put_back(producer_id, calls)
            taken.extendleft(reversed(batches))
        else:
            for call in calls:
                self._sequencer.keep(producer_id, call)
            taken.extend(batches)

    def _forget(self, producer_id: int) -> list[Entry[Waiter]]:
        entries = self._taken[producer_id].popleft()
        self.queued -= sum(len(e.texts) for e in entries)
        return entries


def _call(producer_id: int, batch: list[Entry[Waiter]]) -> Call:
    """One message goes as a single produce, several as one all-or-nothing batch."""
    texts = [text for entry in batch for text in entry.texts]
    topic = batch[0].topic
    if len(texts) == 1:
        return produce_call(topic, producer_id, texts[0])
    return produce_batch_call(topic, producer_id, texts)
