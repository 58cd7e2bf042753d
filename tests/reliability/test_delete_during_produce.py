"""Deleting a topic while its producers send idempotent produces: the sequenced produce
locked its producer row and then the topic row, the delete the topic row and then (by
cascade) the producer rows, so the two deadlocked and one of them answered 500. Both now
lock the topic row first; the delete succeeds and the producers get clean 404s. A deadlock
or serialization failure that still happens is a 503 with Retry-After, never a 500."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from app.database import create_engine
from app.settings import Settings
from tests.api.helpers import register_producer

pytestmark = pytest.mark.postgres_only

ROUNDS = 15
PRODUCERS = 8
ACKS_BEFORE_DELETE = 3 * PRODUCERS


async def send_until_gone(
    client: httpx.AsyncClient, topic: str, producer_id: int, answers: Counter[int]
) -> int:
    """Sequenced produces until one fails; returns the failing status."""
    sequence = 0
    while True:
        response = await client.post(
            "/producer/produce",
            json={
                "topic": topic,
                "producer_id": producer_id,
                "sequence": sequence,
                "message": f"{producer_id}:{sequence}",
            },
        )
        answers[response.status_code] += 1
        if response.status_code != 200:
            return response.status_code
        sequence += 1


async def delete_while_producing(
    client: httpx.AsyncClient, topic: str, answers: Counter[int]
) -> tuple[httpx.Response, list[int]]:
    """The delete's answer, and the status each producer's sends ended with."""
    producers = [await register_producer(client, topic) for _ in range(PRODUCERS)]
    acked_before = answers[200]
    senders = [asyncio.create_task(send_until_gone(client, topic, p, answers)) for p in producers]
    try:
        async with asyncio.timeout(30):
            while answers[200] - acked_before < ACKS_BEFORE_DELETE:  # produces are flowing
                await asyncio.wait(senders, return_when=asyncio.FIRST_COMPLETED, timeout=0.01)
        deleted = await client.delete(f"/topics/{topic}")
        async with asyncio.timeout(30):
            return deleted, await asyncio.gather(*senders)
    finally:
        for sender in senders:
            sender.cancel()


async def test_deleting_a_topic_during_idempotent_produces_never_answers_500(
    client: httpx.AsyncClient,
) -> None:
    answers: Counter[int] = Counter()
    for round_ in range(ROUNDS):
        deleted, last = await delete_while_producing(client, f"doomed-{round_}", answers)
        assert deleted.status_code == 200, (round_, deleted.text)
        assert set(last) == {404}, (round_, last)
    assert set(answers) == {200, 404}, answers


@pytest.fixture
async def failing_writes(settings: Settings) -> AsyncIterator[None]:
    """Triggers that fail like a lost deadlock (40P01) or serialization (40001) race: a
    produce of the body 'deadlock', and deleting the topic 'serialization'."""
    engine = create_engine(settings)
    statements = [
        "CREATE FUNCTION fail_insert() RETURNS trigger AS $$ BEGIN "
        "IF NEW.body = 'deadlock' THEN "
        "RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE FUNCTION fail_delete() RETURNS trigger AS $$ BEGIN "
        "IF OLD.name = 'serialization' THEN "
        "RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END IF; "
        "RETURN OLD; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER deadlock BEFORE INSERT ON messages "
        "FOR EACH ROW EXECUTE FUNCTION fail_insert()",
        "CREATE TRIGGER serialization BEFORE DELETE ON topics "
        "FOR EACH ROW EXECUTE FUNCTION fail_delete()",
    ]
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
        yield
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER IF EXISTS deadlock ON messages"))
            await conn.execute(text("DROP TRIGGER IF EXISTS serialization ON topics"))
            await conn.execute(text("DROP FUNCTION IF EXISTS fail_insert()"))
            await conn.execute(text("DROP FUNCTION IF EXISTS fail_delete()"))
        await engine.dispose()


async def test_a_deadlock_or_serialization_failure_is_503_with_retry_after(
    client: httpx.AsyncClient, failing_writes: None
) -> None:
    producer_id = await register_producer(client, "serialization")
    produce = {"topic": "serialization", "producer_id": producer_id, "sequence": 0}
    for answer in (
        await client.post("/producer/produce", json={**produce, "message": "deadlock"}),
        await client.delete("/topics/serialization"),
    ):
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "1"
    # Nothing was stored or deleted, and the producer's sequence did not move.
    stored = await client.post("/producer/produce", json={**produce, "message": "fine"})
    assert stored.json()["offset"] == 0, stored.text
