"""Short calls for arranging a test's state through the public HTTP API."""

from typing import Any

import httpx

from app.errors import error_classes


async def create_topic(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/topics", json={"topic_name": name})
    assert response.status_code == 200, response.text


async def register_producer(client: httpx.AsyncClient, topic: str) -> int:
    response = await client.post("/producer/register", json={"topic": topic})
    assert response.status_code == 200, response.text
    return int(response.json()["producer_id"])


async def register_consumer(client: httpx.AsyncClient, topic: str) -> int:
    response = await client.post("/consumer/register", json={"topic": topic})
    assert response.status_code == 200, response.text
    return int(response.json()["consumer_id"])


async def produce(client: httpx.AsyncClient, topic: str, producer_id: int, message: str) -> int:
    response = await client.post(
        "/producer/produce", json={"topic": topic, "producer_id": producer_id, "message": message}
    )
    assert response.status_code == 200, response.text
    return int(response.json()["offset"])


async def consume(client: httpx.AsyncClient, topic: str, consumer_id: int) -> dict[str, Any]:
    response = await client.get(
        "/consumer/consume", params={"topic": topic, "consumer_id": consumer_id}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def drain(client: httpx.AsyncClient, topic: str, consumer_id: int) -> list[str]:
    """Consume until "no new messages"; returns the bodies in the order received."""
    received = []
    while (body := await consume(client, topic, consumer_id))["status"] == "success":
        received.append(body["message"])
    assert body == {"status": "failure", "message": "no new messages"}
    return received


KNOWN_CODES = {error.code: error.status_code for error in error_classes()}


def assert_failure(
    response: httpx.Response, status_code: int, *fragments: str, code: str | None = None
) -> None:
    """A failure answer: the status, one of the documented codes (``code`` if given) sent
    with that status, and a message holding each of ``fragments``."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert body["status"] == "failure"
    assert KNOWN_CODES.get(body["error"]) == status_code, body
    if code is not None:
        assert body["error"] == code, body
    for fragment in fragments:
        assert fragment in body["message"], body["message"]
