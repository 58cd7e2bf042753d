"""A producer's messages from the moment they are queued until the broker confirms or
refuses them: coalescing into batch produces, numbering, keeping what got no answer.

Pure (no I/O, no locks): the producer of each flavour holds its lock around every call and
does the sending, so the rules live here once.
"""

from collections import deque
from typing import Generic, NamedTuple, TypeVar

from logqueue_sdk._base import Call, Sequencer, produce_batch_call, produce_call

Waiter = TypeVar("Waiter")

SPLIT_ON = frozenset(
    {"invalid_request", "message_too_large", "batch_too_large", "request_too_large"}
)
"""The broker's codes for refusals of a request's content (malformed, too large): a coalesced
batch refused with one of these is split, so one bad message does not fail the sends queued
beside it."""


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

    def first(self, producer_id: int) -> Call | None:
        """The id's oldest taken call, numbered: the same sequence and body on every attempt."""
        return self._sequencer.first(producer_id)

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
