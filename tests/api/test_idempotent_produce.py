"""Produces carrying a sequence can be retried: a repeat is answered, never stored twice."""

import asyncio

import httpx

from tests.api.helpers import assert_failure, drain, register_consumer, register_producer


async def send(
    client: httpx.AsyncClient, producer_id: int, sequence: int, **payload: object
) -> httpx.Response:
    body = {"topic": "t", "producer_id": producer_id, "sequence": sequence, **payload}
    return await client.post("/producer/produce", json=body)


async def test_repeat_is_answered_with_original_offset(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    first = await send(client, producer_id, 0, message="once")
    retry = await send(client, producer_id, 0, message="once")
    assert first.json() == retry.json() == {"status": "success", "offset": 0}
    assert (await send(client, producer_id, 1, message="twice")).json()["offset"] == 1
    assert await drain(client, "t", consumer_id) == ["once", "twice"]


async def test_batch_repeat_returns_original_range(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    batch = {"messages": ["a", "b", "c"]}
    assert (await send(client, producer_id, 0, **batch)).json()["offsets"] == [0, 2]
    assert (await send(client, producer_id, 0, **batch)).json()["offsets"] == [0, 2]
    assert await drain(client, "t", consumer_id) == ["a", "b", "c"]


async def test_gap_and_older_sequences_are_409(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    assert_failure(await send(client, producer_id, 5, message="x"), 409, "expected 0")
    for seq in range(3):
        assert (await send(client, producer_id, seq, message=f"m{seq}")).status_code == 200
    gap = await send(client, producer_id, 4, message="gap")
    assert_failure(gap, 409, "expected 3")
    assert gap.json()["expected"] == 3, "named as a field too, for clients to read"
    assert_failure(await send(client, producer_id, 0, message="old"), 409, "expected 3")
    assert await drain(client, "t", consumer_id) == ["m0", "m1", "m2"]


async def test_unsequenced_produces_mix_with_sequenced(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    await send(client, producer_id, 0, message="s0")
    plain = await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": "plain"}
    )
    assert plain.json()["offset"] == 1
    assert (await send(client, producer_id, 0, message="s0")).json()["offset"] == 0
    assert (await send(client, producer_id, 1, message="s1")).json()["offset"] == 2
    assert await drain(client, "t", consumer_id) == ["s0", "plain", "s1"]


async def test_racing_retries_store_once(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    responses = await asyncio.gather(
        *(send(client, producer_id, 0, message="raced") for _ in range(10))
    )
    assert {r.json()["offset"] for r in responses} == {0}
    assert await drain(client, "t", consumer_id) == ["raced"]


async def test_sequence_must_be_a_non_negative_int(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    for bad in (-1, "one", 1.5, 2**53 + 1):
        assert_failure(await send(client, producer_id, bad, message="x"), 422, "sequence")  # type: ignore[arg-type]
