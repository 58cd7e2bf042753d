"""Sequenced (idempotent) produces join group commit: many producers, one transaction,
and exactly the idempotence rules of a produce sent alone."""

import asyncio
from collections.abc import Sequence

import pytest

from app.domain import Appended, AppendRequest
from app.errors import SequenceConflict
from app.service import QueueService
from app.settings import Settings
from app.storage import QueueRepository
from tests.service.helpers import ADMIN


class Transactions:
    """Counts the group-commit transactions that stored messages, as /metrics does."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def committed(self, topic: str, messages: int) -> None:
        self.batches.append(messages)

    def consumed(self, topic: str, messages: int) -> None:
        pass

    def topic_deleted(self, topic: str) -> None:
        pass


@pytest.fixture
def transactions() -> Transactions:
    return Transactions()


@pytest.fixture
def watched(
    repository: QueueRepository, empty_db: Settings, transactions: Transactions
) -> QueueService:
    return QueueService.from_settings(repository, empty_db, observer=transactions)


async def stored_log(service: QueueService) -> list[str]:
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    return [m.body for m in await service.consume("t", consumer_id, 1000, caller=ADMIN)]


async def test_many_producers_sequenced_sends_commit_in_one_transaction(
    watched: QueueService, transactions: Transactions
) -> None:
    producers = [await watched.register_producer("t", caller=ADMIN) for _ in range(20)]
    # The first request finds the topic idle and commits alone; the other 19 queue up
    # behind it and share the next transaction.
    results = await asyncio.gather(
        *(
            watched.produce("t", p, [f"p{n}"], sequence=0, caller=ADMIN)
            for n, p in enumerate(producers)
        )
    )
    assert transactions.batches == [1, 19]
    assert [r.first for r in results] == list(range(20))
    assert not any(r.duplicate for r in results)
    assert await stored_log(watched) == [f"p{n}" for n in range(20)]


async def test_idempotence_rules_hold_inside_one_group_commit(
    watched: QueueService, transactions: Transactions
) -> None:
    a, b, c, d, e, f, lead = [await watched.register_producer("t", caller=ADMIN) for _ in range(7)]
    await watched.produce("t", a, ["a0"], sequence=0, caller=ADMIN)  # offset 0
    await watched.produce("t", c, ["c0", "c0'"], sequence=0, caller=ADMIN)  # offsets 1-2
    await watched.produce("t", d, ["d0"], sequence=0, caller=ADMIN)  # offset 3
    transactions.batches.clear()

    results = await asyncio.gather(
        # The first commits alone; the rest queue behind it.
        watched.produce("t", lead, ["lead"], caller=ADMIN),
        watched.produce("t", a, ["a1"], sequence=1, caller=ADMIN),  # next: stored
        watched.produce("t", b, ["b0"], sequence=0, caller=ADMIN),  # first ever: stored
        watched.produce("t", c, ["c0", "c0'"], sequence=0, caller=ADMIN),  # repeat: same offsets
        watched.produce("t", d, ["d5"], sequence=5, caller=ADMIN),  # gap: 409, expected 1
        watched.produce("t", e, ["e-plain"], caller=ADMIN),  # unsequenced: stored
        watched.produce("t", a, ["a1"], sequence=1, caller=ADMIN),  # repeat of a1, sent meanwhile
        watched.produce("t", a, ["a3"], sequence=3, caller=ADMIN),  # gap: 409, expected 2
        watched.produce("t", f, ["f0", "f0'"], sequence=0, caller=ADMIN),  # stored
        return_exceptions=True,
    )

    assert results[0] == Appended(4, 1)
    assert results[1] == Appended(5, 1)
    assert results[2] == Appended(6, 1)
    assert results[3] == Appended(1, 2, duplicate=True)
    assert isinstance(results[4], SequenceConflict) and "expected 1" in results[4].message
    assert results[5] == Appended(7, 1)
    assert results[6] == Appended(5, 1, duplicate=True)
    assert isinstance(results[7], SequenceConflict) and "expected 2" in results[7].message
    assert results[8] == Appended(8, 2)
    # The lead alone; then every producer's first request together; then the transaction
    # that had to see a1 stored (its repeat and a3 store nothing) together with f0.
    assert transactions.batches == [1, 3, 2]
    assert await stored_log(watched) == [
        "a0",
        "c0",
        "c0'",
        "d0",
        "lead",
        "a1",
        "b0",
        "e-plain",
        "f0",
        "f0'",
    ]
    # The producers' rows moved on: the next sequences are the ones now expected.
    assert (await watched.produce("t", a, ["a2"], sequence=2, caller=ADMIN)).first == 10
    assert (await watched.produce("t", d, ["d1"], sequence=1, caller=ADMIN)).first == 11


@pytest.fixture
def writes(repository: QueueRepository, monkeypatch: pytest.MonkeyPatch) -> list[list[int | None]]:
    """The sequences of the requests in each write (one transaction) the service makes."""
    seen: list[list[int | None]] = []
    append = repository.append

    async def counted(topic_id: int, requests: Sequence[AppendRequest]) -> object:
        seen.append([request.sequence for request in requests])
        return await append(topic_id, requests)

    monkeypatch.setattr(repository, "append", counted)
    return seen


async def test_one_producers_requests_queued_out_of_order_are_written_in_sequence(
    watched: QueueService, writes: list[list[int | None]]
) -> None:
    """A pipelining producer's numbered requests may reach the queue in any order."""
    lead, p = [await watched.register_producer("t", caller=ADMIN) for _ in range(2)]
    results = await asyncio.gather(
        watched.produce("t", lead, ["lead"], caller=ADMIN),  # commits alone; the rest queue
        watched.produce("t", p, ["p2"], sequence=2, caller=ADMIN),
        watched.produce("t", p, ["p1"], sequence=1, caller=ADMIN),
        watched.produce("t", p, ["p0"], sequence=0, caller=ADMIN),
    )
    assert [r.first for r in results] == [0, 3, 2, 1]
    assert writes == [[None], [0], [1], [2]], "each judged once, after the one before"
    assert await stored_log(watched) == ["lead", "p0", "p1", "p2"]


async def test_a_request_ahead_of_its_producer_waits_for_the_one_before(
    watched: QueueService, writes: list[list[int | None]]
) -> None:
    producer = await watched.register_producer("t", caller=ADMIN)
    ahead = asyncio.create_task(watched.produce("t", producer, ["p1"], sequence=1, caller=ADMIN))
    deadline = asyncio.get_running_loop().time() + 30
    while writes != [[1]]:  # judged (ahead: nothing stored) before sequence 0 is sent
        assert asyncio.get_running_loop().time() < deadline, f"writes: {writes}"
        await asyncio.sleep(0.01)
    assert not ahead.done(), "it waits instead of answering 409"
    assert (await watched.produce("t", producer, ["p0"], sequence=0, caller=ADMIN)).first == 0
    assert (await ahead).first == 1
    assert writes == [[1], [0], [1]]
    assert await stored_log(watched) == ["p0", "p1"]


async def test_a_request_ahead_with_nothing_before_it_still_gets_its_409(
    watched: QueueService,
) -> None:
    producer = await watched.register_producer("t", caller=ADMIN)
    await watched.produce("t", producer, ["p0"], sequence=0, caller=ADMIN)
    with pytest.raises(SequenceConflict) as conflict:
        await watched.produce("t", producer, ["p5"], sequence=5, caller=ADMIN)
    assert conflict.value.expected == 1
    assert await stored_log(watched) == ["p0"]
