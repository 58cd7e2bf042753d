"""Sequenced (idempotent) produces join group commit: many producers, one transaction,
and exactly the idempotence rules of a produce sent alone."""

import asyncio

import pytest

from app.domain import Appended
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
