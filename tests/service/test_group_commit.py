"""Group commit: many concurrent produces, few transactions, exact answers."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.database import create_engine
from app.domain import Appended
from app.service import QueueService
from app.settings import Settings
from tests.service.helpers import ADMIN


async def _stored(engine: AsyncEngine) -> dict[int, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(text('SELECT "offset", body FROM messages'))
        return {int(offset): body for offset, body in rows}


@pytest.fixture
async def observer(empty_db: Settings) -> AsyncIterator[AsyncEngine]:
    """A second engine, to look at what is committed from outside the service's connections."""
    engine = create_engine(empty_db)
    yield engine
    await engine.dispose()


async def test_500_concurrent_produces_answered_after_commit(
    service: QueueService, observer: AsyncEngine
) -> None:
    producers = [await service.register_producer("t", caller=ADMIN) for _ in range(10)]
    seen_committed: list[bool] = []

    async def client(n: int) -> list[int]:
        offsets = []
        for i in range(50):
            body = f"{n}:{i}"
            offset = (await service.produce("t", producers[n], [body], caller=ADMIN)).first
            # Answered means committed: another connection already sees it.
            async with observer.connect() as conn:
                stored = await conn.scalar(
                    text('SELECT body FROM messages WHERE "offset" = :o'), {"o": offset}
                )
            seen_committed.append(stored == body)
            offsets.append(offset)
        return offsets

    per_client = await asyncio.gather(*(client(n) for n in range(10)))
    assert all(seen_committed) and len(seen_committed) == 500
    assert sorted(o for offsets in per_client for o in offsets) == list(range(500))
    for offsets in per_client:
        assert offsets == sorted(offsets)


async def test_one_batch_of_gathered_requests_keeps_arrival_order(service: QueueService) -> None:
    producer_id = await service.register_producer("t", caller=ADMIN)
    results = await asyncio.gather(
        *(service.produce("t", producer_id, [f"m{i}"], caller=ADMIN) for i in range(500))
    )
    assert [r.first for r in results] == list(range(500))


async def test_failed_commit_fails_every_request_of_its_batch(
    service: QueueService, observer: AsyncEngine, backend: str
) -> None:
    """A real failure inside the batch's transaction (a trigger rejecting one body):
    every request that shared the transaction fails, and none of their messages is stored."""
    async with observer.begin() as conn:
        if backend == "postgresql":
            await conn.execute(
                text(
                    "CREATE OR REPLACE FUNCTION reject_poison() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.body = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(text("DROP TRIGGER IF EXISTS poison ON messages"))
            await conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON messages "
                    "FOR EACH ROW EXECUTE FUNCTION reject_poison()"
                )
            )
        else:
            await conn.execute(text("DROP TRIGGER IF EXISTS poison"))
            await conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON messages "
                    "WHEN NEW.body = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                )
            )
    try:
        producer_id = await service.register_producer("t", caller=ADMIN)
        # The first request finds the topic idle and commits alone; the other 49 queue up
        # behind it and are written together, poison included.
        bodies = [f"m{i}" for i in range(49)] + ["poison"]
        results = await asyncio.gather(
            *(service.produce("t", producer_id, [b], caller=ADMIN) for b in bodies),
            return_exceptions=True,
        )
    finally:
        async with observer.begin() as conn:
            await conn.execute(
                text("DROP TRIGGER IF EXISTS poison ON messages")
                if backend == "postgresql"
                else text("DROP TRIGGER IF EXISTS poison")
            )
    assert results[0] == Appended(0, 1)
    assert all(isinstance(r, Exception) for r in results[1:])
    assert await _stored(observer) == {0: "m0"}
    # The topic is not stuck: the next produce continues right after the stored log.
    assert (await service.produce("t", producer_id, ["after"], caller=ADMIN)).first == 1
