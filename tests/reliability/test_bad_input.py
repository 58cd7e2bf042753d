"""Bad input of every kind gets a clear JSON 4xx, and the stored data is unchanged
(every table is read back before and after)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.database import create_engine
from app.errors import error_classes
from app.settings import Settings

TABLES = {
    "topics": "SELECT id, name, next_offset FROM topics ORDER BY id",
    "producers": "SELECT id, topic_id, last_sequence FROM producers ORDER BY id",
    "consumers": 'SELECT id, topic_id, "offset" FROM consumers ORDER BY id',
    "messages": 'SELECT topic_id, "offset", body, producer_id FROM messages ORDER BY 1, 2',
    "consumer_groups": "SELECT id, topic_id, name, next_offset, ack_wait_ms, max_deliver, "
    "dead_letter_topic, acked, redelivered, dead_lettered, skipped "
    "FROM consumer_groups ORDER BY id",
    "group_ranges": "SELECT * FROM group_ranges ORDER BY group_id, start",
}


async def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(settings)
    async with engine.connect() as conn:
        state = {
            name: [tuple(r) for r in await conn.execute(text(q))] for name, q in TABLES.items()
        }
    await engine.dispose()
    return state


@dataclass
class World:
    producer_id: int
    consumer_id: int
    other_consumer_id: int
    lease_id: str


@pytest.fixture
async def world(client: httpx.AsyncClient) -> AsyncIterator[World]:
    producer_id = (await client.post("/producer/register", json={"topic": "t"})).json()[
        "producer_id"
    ]
    for i in range(3):
        await client.post(
            "/producer/produce", json={"topic": "t", "producer_id": producer_id, "message": f"m{i}"}
        )
    consumer_id = (await client.post("/consumer/register", json={"topic": "t"})).json()[
        "consumer_id"
    ]
    await client.get("/consumer/consume", params={"topic": "t", "consumer_id": consumer_id})
    await client.post("/topics", json={"topic_name": "other"})
    other = (await client.post("/consumer/register", json={"topic": "other"})).json()
    for group in ("g", "h"):
        await client.put(f"/topics/t/groups/{group}", json={})
    fetched = await client.post("/topics/t/groups/g/fetch", json={"member": "w", "max_messages": 2})
    yield World(producer_id, consumer_id, other["consumer_id"], fetched.json()["lease_id"])


STATUS_OF_CODE = {error.code: error.status_code for error in error_classes()}

# Placeholders filled from the world.
P, C, OTHER, LEASE = "{producer}", "{consumer}", "{other}", "{lease}"
G = "/topics/t/groups/g"

CASES: list[tuple[str, str, str, dict[str, Any] | bytes | None, int]] = [
    ("not json", "POST", "/producer/produce", b"{topic: t", 422),
    ("json array", "POST", "/producer/produce", b'["t", 1, "m"]', 422),
    ("invalid utf-8", "POST", "/topics", b'{"topic_name": "\xff\xfe"}', 422),
    ("empty body", "POST", "/producer/register", b"", 422),
    ("number as topic", "POST", "/producer/register", {"topic": 12}, 422),
    ("unicode topic", "POST", "/topics", {"topic_name": "tópico"}, 422),
    ("NUL in topic", "POST", "/topics", {"topic_name": "a\x00b"}, 422),
    ("256-char topic", "POST", "/topics", {"topic_name": "x" * 256}, 422),
    (
        "NUL in message",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": P, "message": "a\x00b"},
        422,
    ),
    (
        "list as message",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": P, "message": ["m"]},
        422,
    ),
    (
        "string id",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": "abc", "message": "m"},
        422,
    ),
    (
        "negative id",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": -1, "message": "m"},
        422,
    ),
    (
        "huge id",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": 10**40, "message": "m"},
        422,
    ),
    ("bool id", "GET", "/size?topic=t&consumer_id=true", None, 422),
    (
        "bool producer id",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": True, "message": "m"},
        422,
    ),
    (
        "bool sequence",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": P, "message": "m", "sequence": False},
        422,
    ),
    ("bool retention", "POST", "/topics", {"topic_name": "kept", "retention_messages": True}, 422),
    (
        "unknown producer",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": 424242, "message": "m"},
        404,
    ),
    (
        "unknown topic",
        "POST",
        "/producer/produce",
        {"topic": "nope", "producer_id": P, "message": "m"},
        404,
    ),
    (
        "oversize message",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": P, "message": "x" * (1024 * 1024 + 1)},
        413,
    ),
    (
        "oversize batch",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": P, "messages": ["x"] * 1001},
        413,
    ),
    ("huge body", "POST", "/producer/produce", b'{"m": "' + b"x" * (17 * 1024 * 1024) + b'"}', 413),
    (
        "negative sequence",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": P, "message": "m", "sequence": -3},
        422,
    ),
    (
        "gap sequence",
        "POST",
        "/producer/produce",
        {"topic": "t", "producer_id": P, "message": "m", "sequence": 7},
        409,
    ),
    ("consumer of other topic", "GET", f"/consumer/consume?topic=t&consumer_id={OTHER}", None, 403),
    ("unknown consumer", "GET", "/consumer/consume?topic=t&consumer_id=99", None, 404),
    ("huge consumer id", "GET", f"/consumer/consume?topic=t&consumer_id={10**30}", None, 422),
    (
        "negative max_messages",
        "GET",
        f"/consumer/consume?topic=t&consumer_id={C}&max_messages=-1",
        None,
        422,
    ),
    (
        "huge max_messages",
        "GET",
        f"/consumer/consume?topic=t&consumer_id={C}&max_messages={10**12}",
        None,
        422,
    ),
    (
        "huge wait_ms",
        "GET",
        f"/consumer/consume?topic=t&consumer_id={C}&wait_ms=99999999",
        None,
        422,
    ),
    ("duplicate topic", "POST", "/topics", {"topic_name": "t"}, 409),
    ("stream from a word", "GET", "/topics/t/stream?from=yesterday", None, 422),
    ("stream from a negative offset", "GET", "/topics/t/stream?from=-1", None, 422),
    ("stream from a huge offset", "GET", f"/topics/t/stream?from={10**30}", None, 422),
    ("stream of an unknown topic", "GET", "/topics/nope/stream", None, 404),
    ("stream of a bad topic name", "GET", "/topics/a%20b/stream", None, 422),
    ("browse before a negative offset", "GET", "/topics/t/messages?before=-1", None, 422),
    ("browse a huge page", "GET", "/topics/t/messages?limit=100000", None, 422),
    ("browse an empty page", "GET", "/topics/t/messages?limit=0", None, 422),
    ("browse from a non-time", "GET", "/topics/t/messages?time=yesterday", None, 422),
    ("browse from a number", "GET", "/topics/t/messages?time=0.5", None, 422),
    (
        "browse from a time without zone",
        "GET",
        "/topics/t/messages?time=2026-01-01T00:00:00",
        None,
        422,
    ),
    ("browse from month 13", "GET", "/topics/t/messages?time=2026-13-01T00:00:00Z", None, 422),
    ("browse an unknown topic", "GET", "/topics/nope/messages", None, 404),
    ("stats of an unknown topic", "GET", "/stats/topics/nope", None, 404),
    ("stats of a bad topic name", "GET", "/stats/topics/a%00b", None, 422),
    ("group of unknown topic", "PUT", "/topics/nope/groups/g", {}, 404),
    ("unicode group name", "PUT", "/topics/t/groups/grüppe", {}, 422),
    ("256-char group name", "PUT", "/topics/t/groups/" + "g" * 256, {}, 422),
    ("zero ack_wait_ms", "PUT", G, {"ack_wait_ms": 0}, 422),
    ("huge ack_wait_ms", "PUT", G, {"ack_wait_ms": 10**15}, 422),
    ("bool max_deliver", "PUT", G, {"max_deliver": True}, 422),
    ("negative max_deliver", "PUT", G, {"max_deliver": -1}, 422),
    ("own dead-letter topic", "PUT", G, {"dead_letter_topic": "t"}, 409),
    ("unknown dead-letter topic", "PUT", G, {"dead_letter_topic": "nope"}, 404),
    ("unknown start word", "PUT", "/topics/t/groups/new", {"start": "middle"}, 422),
    ("negative start offset", "PUT", "/topics/t/groups/new", {"start": {"offset": -1}}, 422),
    (
        "start time without zone",
        "PUT",
        "/topics/t/groups/new",
        {"start": {"time": "2026-01-01T00:00:00"}},
        422,
    ),
    (
        "start with two forms",
        "PUT",
        "/topics/t/groups/new",
        {"start": {"offset": 1, "time": "x"}},
        422,
    ),
    ("unknown group", "POST", "/topics/t/groups/zz/fetch", {"member": "w"}, 404),
    ("unknown group details", "GET", "/topics/t/groups/zz", None, 404),
    ("delete unknown group", "DELETE", "/topics/t/groups/zz", None, 404),
    ("empty member", "POST", f"{G}/fetch", {"member": ""}, 422),
    ("control char member", "POST", f"{G}/fetch", {"member": "a\nb"}, 422),
    ("256-char member", "POST", f"{G}/fetch", {"member": "m" * 256}, 422),
    ("missing member", "POST", f"{G}/fetch", {"max_messages": 1}, 422),
    ("zero group max_messages", "POST", f"{G}/fetch", {"member": "w", "max_messages": 0}, 422),
    (
        "group max_messages over the batch",
        "POST",
        f"{G}/fetch",
        {"member": "w", "max_messages": 1001},
        422,
    ),
    ("huge group wait_ms", "POST", f"{G}/fetch", {"member": "w", "wait_ms": 10**9}, 422),
    ("negative group wait_ms", "POST", f"{G}/fetch", {"member": "w", "wait_ms": -5}, 422),
    ("lease of another group", "POST", "/topics/t/groups/h/ack", {"lease_id": LEASE}, 404),
    ("lease of another topic", "POST", "/topics/other/groups/g/ack", {"lease_id": LEASE}, 404),
    ("not a lease id", "POST", f"{G}/ack", {"lease_id": "12"}, 404),
    ("huge lease id", "POST", f"{G}/ack", {"lease_id": "9" * 80 + "." + "9" * 20}, 422),
    ("offsets not in the lease", "POST", f"{G}/ack", {"lease_id": LEASE, "offsets": [0, 2]}, 409),
    ("negative offsets", "POST", f"{G}/ack", {"lease_id": LEASE, "offsets": [-1]}, 422),
    ("empty offsets", "POST", f"{G}/ack", {"lease_id": LEASE, "offsets": []}, 422),
    ("huge offset", "POST", f"{G}/term", {"lease_id": LEASE, "offsets": [10**30]}, 422),
    ("negative nack delay", "POST", f"{G}/nack", {"lease_id": LEASE, "delay_ms": -1}, 422),
    ("huge nack delay", "POST", f"{G}/nack", {"lease_id": LEASE, "delay_ms": 10**12}, 422),
    ("zero extend", "POST", f"{G}/extend", {"lease_id": LEASE, "ms": 0}, 422),
    ("huge extend", "POST", f"{G}/extend", {"lease_id": LEASE, "ms": 10**12}, 422),
    ("seek without start", "POST", f"{G}/seek", {}, 422),
    ("seek to a bad time", "POST", f"{G}/seek", {"start": {"time": "yesterday"}}, 422),
    ("seek an unknown group", "POST", "/topics/t/groups/zz/seek", {"start": "latest"}, 404),
    ("delete an unknown producer", "DELETE", "/producer/424242", None, 404),
    ("delete a producer by name", "DELETE", "/producer/produce", None, 405),
    ("delete producer 0", "DELETE", "/producer/0", None, 422),
    ("delete a huge producer id", "DELETE", f"/producer/{10**30}", None, 422),
    ("delete a consumer as producer", "DELETE", f"/producer/{C}", None, 404),
    ("delete an unknown consumer", "DELETE", "/consumer/99", None, 404),
    ("delete a negative consumer id", "DELETE", "/consumer/-5", None, 404),
    ("delete a fractional consumer id", "DELETE", "/consumer/1.5", None, 404),
    ("delete a consumer by name", "DELETE", "/consumer/consume", None, 405),
    ("get a consumer by id", "GET", f"/consumer/{C}", None, 405),
    ("describe with an empty page", "GET", "/topics/t?limit=0", None, 422),
    ("describe with a huge page", "GET", "/topics/t?limit=1001", None, 422),
    ("describe after a negative id", "GET", "/topics/t?consumers_after=-1", None, 422),
    ("describe after a word", "GET", "/topics/t?producers_after=abc", None, 422),
    ("describe after a huge id", "GET", f"/topics/t?producers_after={10**30}", None, 422),
    ("describe an unknown topic", "GET", "/topics/nope?limit=5", None, 404),
]


def fill(value: Any, world: World) -> Any:
    names: dict[str, Any] = {
        P: world.producer_id,
        C: world.consumer_id,
        OTHER: world.other_consumer_id,
        LEASE: world.lease_id,
    }
    if isinstance(value, dict):
        return {k: names.get(v, v) if isinstance(v, str) else v for k, v in value.items()}
    if isinstance(value, str):
        for placeholder, real in names.items():
            value = value.replace(placeholder, str(real))
    return value


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_bad_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    app: FastAPI,
    world: World,
    empty_db: Settings,
    method: str,
    path: str,
    body: dict[str, Any] | bytes | None,
    status: int,
) -> None:
    before = await snapshot(empty_db)
    if isinstance(body, bytes):
        response = await client.request(
            method, fill(path, world), content=body, headers={"content-type": "application/json"}
        )
    else:
        response = await client.request(method, fill(path, world), json=fill(body, world))
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["status"] == "failure"
    assert STATUS_OF_CODE.get(payload["error"]) == status, payload
    assert len(payload["message"]) > 10
    assert await snapshot(empty_db) == before
