"""Set-up calls to the server under test: what it supports, ids, and bulk filling.

These are not timed; the timed load comes from wrk (``bench/wrk.py``) and ``bench/e2e.py``.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Features:
    """What this server's OpenAPI document says it accepts."""

    batch_produce: bool
    batch_consume: bool
    long_poll: bool

    def missing(self, *needed: str) -> str | None:
        """``n/a`` text naming the first needed feature the server lacks, else None."""
        for name in needed:
            if not getattr(self, name):
                return f"n/a (server lacks {name.replace('_', ' ')})"
        return None


def features(url: str) -> Features:
    schema = httpx.get(url + "/openapi.json", timeout=10).json()
    consume_params = {
        p["name"] for p in schema["paths"]["/consumer/consume"]["get"].get("parameters", [])
    }
    produce_body = schema["paths"]["/producer/produce"]["post"]["requestBody"]
    return Features(
        batch_produce='"messages"' in json.dumps(_resolve(produce_body, schema)),
        batch_consume="max_messages" in consume_params,
        long_poll="wait_ms" in consume_params,
    )


def _resolve(node: Any, schema: dict[str, Any], depth: int = 0) -> Any:
    """Inline ``$ref``s (a few levels deep) so a field name can be found anywhere in a body."""
    if depth > 5:
        return node
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _resolve(schema["components"]["schemas"][name], schema, depth + 1)
        return {key: _resolve(value, schema, depth) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, schema, depth) for item in node]
    return node


def register_producer(url: str, topic: str) -> int:
    response = httpx.post(url + "/producer/register", json={"topic": topic}, timeout=10)
    response.raise_for_status()
    return int(response.json()["producer_id"])


def register_consumers(url: str, topic: str, count: int) -> list[int]:
    with httpx.Client(base_url=url, timeout=10) as client:
        ids = []
        for _ in range(count):
            response = client.post("/consumer/register", json={"topic": topic})
            response.raise_for_status()
            ids.append(int(response.json()["consumer_id"]))
        return ids


def batch_body(topic: str, producer_id: int, *, count: int, size: int) -> bytes:
    message = "x" * size
    return json.dumps(
        {"topic": topic, "producer_id": producer_id, "messages": [message] * count}
    ).encode()


def fill(url: str, topic: str, producer_id: int, *, total: int, batch: int, size: int) -> None:
    """Produce ``total`` messages in batches from a few concurrent clients, fast."""
    if total % batch:
        raise ValueError(f"{total} messages are not a whole number of {batch}-message batches")
    body = batch_body(topic, producer_id, count=batch, size=size)
    requests = total // batch

    async def run() -> None:
        queue = iter(range(requests))
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:

            async def worker() -> None:
                for _ in queue:
                    response = await client.post(
                        "/producer/produce",
                        content=body,
                        headers={"content-type": "application/json"},
                    )
                    response.raise_for_status()

            await asyncio.gather(*(worker() for _ in range(4)))

    asyncio.run(run())
