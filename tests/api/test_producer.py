import httpx
import pytest

from tests.api.helpers import (
    assert_failure,
    create_topic,
    drain,
    register_consumer,
    register_producer,
)


async def test_register_on_existing_topic(client: httpx.AsyncClient) -> None:
    await create_topic(client, "Minoru")
    response = await client.post("/producer/register", json={"topic": "Minoru"})
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "success"
    assert isinstance(body["producer_id"], int)
    assert (await client.get("/topics")).json()["topics"] == ["Minoru"]


async def test_register_creates_missing_topic(client: httpx.AsyncClient) -> None:
    response = await client.post("/producer/register", json={"topic_name": "fresh"})
    assert response.status_code == 200
    assert (await client.get("/topics")).json()["topics"] == ["fresh"]


async def test_ids_are_random_not_counted(client: httpx.AsyncClient) -> None:
    ids = [await register_producer(client, "t") for _ in range(20)]
    assert len(set(ids)) == 20
    assert all(1 <= i < 2**53 for i in ids)
    # A counter would give consecutive ids; random 53-bit ids are almost never adjacent.
    gaps = {b - a for a, b in zip(sorted(ids), sorted(ids)[1:], strict=False)}
    assert min(gaps) > 1000


async def test_register_bad_topic_name_is_422(client: httpx.AsyncClient) -> None:
    assert_failure(await client.post("/producer/register", json={"topic": "bad name"}), 422)
    assert_failure(await client.post("/producer/register", json={}), 422)


async def test_produce_success(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    response = await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": "hi"}
    )
    assert response.status_code == 200
    assert response.json() == {"status": "success", "offset": 0}


async def test_produce_accepts_original_field_names(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await client.post(
        "/producer/produce",
        json={"topic_name": "t", "producer_id": producer_id, "log_message": "old client"},
    )
    assert response.json()["status"] == "success"
    assert await drain(client, "t", consumer_id) == ["old client"]


async def test_produce_unknown_topic_is_404(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    response = await client.post(
        "/producer/produce", json={"topic": "nope", "producer_id": producer_id, "message": "x"}
    )
    assert_failure(response, 404, "nope")


async def test_produce_unknown_producer_is_404(client: httpx.AsyncClient) -> None:
    await create_topic(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": 12345, "message": "x"}
    )
    assert_failure(response, 404, "12345")
    assert await drain(client, "t", consumer_id) == []


async def test_produce_with_producer_of_other_topic_is_403(client: httpx.AsyncClient) -> None:
    other = await register_producer(client, "other")
    await create_topic(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": other, "message": "x"}
    )
    assert_failure(response, 403, str(other), "'t'")
    assert await drain(client, "t", consumer_id) == []


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ("", 422),
        (None, 422),
        (42, 422),
        (["a"], 422),
        ({"a": 1}, 422),
        ("nul\x00inside", 422),
    ],
)
async def test_produce_bad_message(client: httpx.AsyncClient, message: object, status: int) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": message}
    )
    assert_failure(response, status, "message")
    assert await drain(client, "t", consumer_id) == []


async def test_produce_lone_surrogate_is_422(client: httpx.AsyncClient) -> None:
    """Valid JSON, but not storable text: refused before it reaches the database."""
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    raw = f'{{"topic": "t", "producer_id": {producer_id}, "message": "a\\ud800b"}}'
    response = await client.post(
        "/producer/produce", content=raw.encode(), headers={"content-type": "application/json"}
    )
    assert_failure(response, 422, "message")
    assert await drain(client, "t", consumer_id) == []


async def test_produce_oversize_message_is_413(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    limit = 1024 * 1024
    at_limit = "é" * (limit // 2)  # two UTF-8 bytes each: exactly the limit
    ok = await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": at_limit}
    )
    assert ok.status_code == 200
    response = await client.post(
        "/producer/produce",
        json={"topic": "t", "producer_id": producer_id, "message": at_limit + "x"},
    )
    assert_failure(response, 413, str(limit))
    assert await drain(client, "t", consumer_id) == [at_limit]


@pytest.mark.parametrize("producer_id", ["abc", 0, -1, 2**53 + 1, 10**30, 1.5, None])
async def test_produce_bad_producer_id_is_422(
    client: httpx.AsyncClient, producer_id: object
) -> None:
    await register_producer(client, "t")
    response = await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": "x"}
    )
    assert_failure(response, 422, "producer_id")


async def test_produce_unicode_round_trips(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    text = "ログ 🚀 ümlaut \t tab \n newline"
    await client.post(
        "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": text}
    )
    assert await drain(client, "t", consumer_id) == [text]
