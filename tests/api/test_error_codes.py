"""Every failure carries a machine code beside its status and message, and the OpenAPI
document lists, per route, the codes it can answer with."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from app.errors import error_classes
from tests.api.helpers import assert_failure, create_topic, register_consumer, register_producer


async def test_each_refusal_names_its_code(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "t")
    consumer_id = await register_consumer(client, "t")
    await create_topic(client, "other")
    elsewhere = await register_consumer(client, "other")

    def produce(**fields: Any) -> dict[str, Any]:
        return {"topic": "t", "producer_id": producer_id, **fields}

    cases: list[tuple[httpx.Response, int, str]] = [
        (await client.get("/topics/ghost"), 404, "topic_not_found"),
        (await client.post("/topics", json={"topic_name": "t"}), 409, "topic_exists"),
        (
            await client.post("/producer/produce", json=produce(producer_id=99, message="m")),
            404,
            "producer_not_found",
        ),
        (
            await client.get("/size", params={"topic": "t", "consumer_id": 99}),
            404,
            "consumer_not_found",
        ),
        (
            await client.get("/size", params={"topic": "t", "consumer_id": elsewhere}),
            403,
            "wrong_topic",
        ),
        (await client.post("/producer/produce", json=produce()), 422, "invalid_request"),
        (
            await client.post("/producer/produce", content=b"x" * (16 * 2**20 + 1)),
            413,
            "request_too_large",
        ),
        (
            await client.post("/producer/produce", json=produce(message="x" * (2**20 + 1))),
            413,
            "message_too_large",
        ),
        (
            await client.post("/producer/produce", json=produce(messages=["m"] * 1001)),
            413,
            "batch_too_large",
        ),
        (
            await client.post("/producer/produce", json=produce(message="m", sequence=5)),
            409,
            "sequence_conflict",
        ),
        (await client.get("/nope"), 404, "not_found"),
        (await client.put("/producer/produce"), 405, "method_not_allowed"),
        (await client.post("/producer/register", content=b"\xff"), 422, "invalid_request"),
    ]
    for response, status_code, code in cases:
        assert_failure(response, status_code, code=code)
    assert (await client.get("/size", params={"topic": "t", "consumer_id": consumer_id})).is_success


async def test_openapi_lists_each_routes_codes(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    produce = schema["paths"]["/producer/produce"]["post"]
    assert produce["operationId"] == "producer-produce"
    documented = {
        status: set(answer["content"]["application/json"]["examples"])
        for status, answer in produce["responses"].items()
        if status != "200"
    }
    assert documented == {
        "403": {"wrong_topic"},
        "404": {"topic_not_found", "producer_not_found"},
        "409": {"sequence_conflict"},
        "413": {"message_too_large", "batch_too_large", "request_too_large"},
        "422": {"invalid_request"},
        "500": {"internal_error"},
        "503": {"storage_unavailable"},
    }
    assert "`producer_not_found`" in produce["responses"]["404"]["description"]


@pytest.mark.parametrize("error", error_classes(), ids=lambda error: error.code)
def test_codes_are_snake_case_and_unique(error: type) -> None:
    codes = [e.code for e in error_classes()]
    assert codes.count(error.code) == 1
    assert error.code.replace("_", "").isalpha() and error.code.islower()


def test_readme_lists_every_error_code() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for error in error_classes():
        assert f"| {error.status_code} | `{error.code}` |" in readme, error.code
