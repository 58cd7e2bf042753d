"""A body too deep, or with a number too long, is described as such (422), not as text
that is not UTF-8 JSON."""

import httpx
import pytest


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"topic": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (b'{"topic": "t", "producer_id": ' + b"1" * 5000 + b', "message": "m"}', "too many digits"),
    ],
    ids=["too-deep", "long-number"],
)
async def test_an_undecodable_body_says_why(
    client: httpx.AsyncClient, body: bytes, problem: str
) -> None:
    response = await client.post(
        "/producer/produce", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request"
    assert problem in response.json()["message"]
