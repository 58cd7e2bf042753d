import httpx
import pytest

from tests.api.helpers import (
    assert_failure,
    consume,
    create_topic,
    drain,
    produce,
    register_consumer,
    register_producer,
)


async def test_register_on_existing_topic(client: httpx.AsyncClient) -> None:
    await create_topic(client, "Minoru")
    response = await client.post("/consumer/register", json={"topic": "Minoru"})
    assert response.status_code == 200
    assert response.json()["status"] == "success"
    assert isinstance(response.json()["consumer_id"], int)


async def test_register_on_missing_topic_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/consumer/register", json={"topic": "ghost"})
    assert_failure(response, 404, "ghost")
    assert (await client.get("/topics")).json()["topics"] == []


async def test_consume_in_order(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    for i in range(5):
        assert await produce(client, "t", producer_id, f"m{i}") == i
    for i in range(5):
        body = await consume(client, "t", consumer_id)
        assert body["status"] == "success"
        assert (body["message"], body["offset"]) == (f"m{i}", i)
        assert body["produced_at"]


async def test_single_consume_also_answers_log_message(client: httpx.AsyncClient) -> None:
    """The original group's client library reads ``log_message`` (their server's name)."""
    producer_id = await register_producer(client, "legacy")
    consumer_id = await register_consumer(client, "legacy")
    await produce(client, "legacy", producer_id, "hello")
    body = await consume(client, "legacy", consumer_id)
    assert (body["message"], body["log_message"], body["offset"]) == ("hello", "hello", 0)
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["Consumed"]
    assert {"message", "log_message"} <= set(schema["required"])


async def test_every_consumer_sees_every_message(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumers = [await register_consumer(client, "t") for _ in range(3)]
    sent = [f"log line {i}" for i in range(10)]
    for message in sent:
        await produce(client, "t", producer_id, message)
    for consumer_id in consumers:
        assert await drain(client, "t", consumer_id) == sent


async def test_late_consumer_starts_at_zero(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    early = await register_consumer(client, "t")
    for message in ["a", "b", "c"]:
        await produce(client, "t", producer_id, message)
    assert await drain(client, "t", early) == ["a", "b", "c"]
    late = await register_consumer(client, "t")
    assert await drain(client, "t", late) == ["a", "b", "c"]


async def test_empty_topic_says_no_new_messages(client: httpx.AsyncClient) -> None:
    await create_topic(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await client.get(
        "/consumer/consume", params={"topic": "t", "consumer_id": consumer_id}
    )
    assert response.status_code == 200
    assert response.json() == {"status": "failure", "message": "no new messages"}


async def test_consume_unknown_topic_is_404(client: httpx.AsyncClient) -> None:
    await create_topic(client, "t")
    consumer_id = await register_consumer(client, "t")
    response = await client.get(
        "/consumer/consume", params={"topic": "nope", "consumer_id": consumer_id}
    )
    assert_failure(response, 404, "nope")


async def test_consume_unknown_consumer_is_404(client: httpx.AsyncClient) -> None:
    await create_topic(client, "t")
    response = await client.get("/consumer/consume", params={"topic": "t", "consumer_id": 777})
    assert_failure(response, 404, "777")


async def test_consume_with_consumer_of_other_topic_is_403(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    await produce(client, "t", producer_id, "secret")
    await create_topic(client, "other")
    other = await register_consumer(client, "other")
    response = await client.get("/consumer/consume", params={"topic": "t", "consumer_id": other})
    assert_failure(response, 403, str(other))
    mine = await register_consumer(client, "t")
    assert await drain(client, "t", mine) == ["secret"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"topic": "t"},
        {"consumer_id": "1"},
        {"topic": "t", "consumer_id": "abc"},
        {"topic": "t", "consumer_id": "-5"},
        {"topic": "bad name", "consumer_id": "1"},
    ],
)
async def test_consume_bad_parameters_are_422(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    await create_topic(client, "t")
    assert_failure(await client.get("/consumer/consume", params=params), 422)
    assert_failure(await client.get("/size", params=params), 422)


async def test_consume_with_json_body_on_get(client: httpx.AsyncClient) -> None:
    """The original clients send GET requests with a JSON body."""
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    await produce(client, "t", producer_id, "via body")
    payload = {"topic": "t", "consumer_id": consumer_id}
    size = await client.request("GET", "/size", json=payload)
    assert size.json() == {"status": "success", "size": 1}
    response = await client.request(
        "GET", "/consumer/consume", json={"topic_name": "t", "consumer_id": consumer_id}
    )
    assert response.json()["message"] == "via body"
    after = await client.request("GET", "/size", json=payload)
    assert after.json()["size"] == 0


async def test_get_with_invalid_json_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.request(
        "GET", "/consumer/consume", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert_failure(response, 422, "JSON")


async def test_size_counts_down_to_zero(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    for i in range(4):
        await produce(client, "t", producer_id, f"m{i}")
    params = {"topic": "t", "consumer_id": consumer_id}
    for expected in [4, 3, 2, 1, 0]:
        assert (await client.get("/size", params=params)).json() == {
            "status": "success",
            "size": expected,
        }
        await consume(client, "t", consumer_id)
    assert (await client.get("/size", params=params)).json()["size"] == 0


async def test_size_errors(client: httpx.AsyncClient) -> None:
    await create_topic(client, "t")
    await create_topic(client, "other")
    other = await register_consumer(client, "other")
    assert_failure(await client.get("/size", params={"topic": "x", "consumer_id": other}), 404)
    assert_failure(await client.get("/size", params={"topic": "t", "consumer_id": 99}), 404)
    assert_failure(await client.get("/size", params={"topic": "t", "consumer_id": other}), 403)
