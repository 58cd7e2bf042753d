"""Optional access control: bearer API keys, admin keys, and ids bound to the key that made them."""

import asyncio
import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.database import create_engine
from app.main import create_app
from app.service.caller import KeyRing, fingerprint
from app.settings import Settings
from logqueue_sdk import AccessDenied, AsyncProducer, Client, Consumer, Producer
from tests.api.helpers import assert_failure
from tests.live_server import LiveServer, start_server

ADMIN = "admin-key-0123456789abcdef"
ALICE = "alice-key-0123456789abcdef"
BOB = "bob-key-0123456789abcdef"
UNKNOWN = "nobody-key-0123456789abcdef"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def keyed(base: Settings, *entries: str, **more: Any) -> Settings:
    return Settings(
        database_url=base.database_url, migrate_on_start=False, api_keys=list(entries), **more
    )


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://logqueue.test") as c:
            yield c


@pytest.fixture
async def secured(empty_db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(keyed(empty_db, f"admin:{ADMIN}", ALICE, BOB)) as client:
        yield client


async def ok(response: Any) -> dict[str, Any]:
    answer = await response
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == "success", body
    return body


async def register(client: httpx.AsyncClient, role: str, topic: str, key: str) -> int:
    body = await ok(client.post(f"/{role}/register", json={"topic": topic}, headers=bearer(key)))
    return int(body[f"{role}_id"])


def produce(client: httpx.AsyncClient, topic: str, producer_id: int, key: str) -> Any:
    body = {"topic": topic, "producer_id": producer_id, "message": f"from {key[:5]}"}
    return client.post("/producer/produce", json=body, headers=bearer(key))


def consume(client: httpx.AsyncClient, topic: str, consumer_id: int, key: str, **extra: int) -> Any:
    query = {"topic": topic, "consumer_id": consumer_id, **extra}
    return client.get("/consumer/consume", params=query, headers=bearer(key))


def size(client: httpx.AsyncClient, topic: str, consumer_id: int, key: str) -> Any:
    return client.get(
        "/size", params={"topic": topic, "consumer_id": consumer_id}, headers=bearer(key)
    )


async def test_off_by_default_every_request_works_without_a_key(
    client: httpx.AsyncClient,
) -> None:
    assert Settings().api_keys == []
    await ok(client.post("/topics", json={"topic_name": "open"}))
    producer_id = int(
        (await ok(client.post("/producer/register", json={"topic": "open"})))["producer_id"]
    )
    consumer_id = int(
        (await ok(client.post("/consumer/register", json={"topic": "open"})))["consumer_id"]
    )
    # A key sent to a server without access control is ignored, not refused.
    await ok(produce(client, "open", producer_id, UNKNOWN))
    assert (await ok(consume(client, "open", consumer_id, UNKNOWN)))["offset"] == 0
    schema = (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in schema["components"]
    assert "security" not in schema["paths"]["/topics"]["post"]
    await ok(client.delete("/topics/open"))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer(UNKNOWN),
        bearer(ADMIN + "x"),
        {"Authorization": f"Basic {ADMIN}"},
        {"Authorization": "Bearer"},
    ],
    ids=["no-header", "unknown-key", "near-miss", "basic-scheme", "empty-bearer"],
)
async def test_requests_without_a_known_key_are_401_and_change_nothing(
    secured: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    await ok(secured.post("/topics", json={"topic_name": "kept"}, headers=bearer(ADMIN)))
    producer_id = await register(secured, "producer", "kept", ALICE)
    consumer_id = await register(secured, "consumer", "kept", ALICE)
    await ok(produce(secured, "kept", producer_id, ALICE))
    ref = {"topic": "kept", "consumer_id": consumer_id}
    requests = [
        ("POST", "/topics", {"json": {"topic_name": "new"}}),
        ("GET", "/topics", {}),
        ("GET", "/topics/kept", {}),
        ("DELETE", "/topics/kept", {}),
        ("POST", "/producer/register", {"json": {"topic": "other"}}),
        ("POST", "/consumer/register", {"json": {"topic": "kept"}}),
        (
            "POST",
            "/producer/produce",
            {"json": {**ref, "producer_id": producer_id, "message": "x"}},
        ),
        ("GET", "/consumer/consume", {"params": ref}),
        ("GET", "/consumer/consume", {"params": {**ref, "max_messages": 5}}),
        ("GET", "/size", {"params": ref}),
    ]
    for method, path, options in requests:
        response = await secured.request(method, path, headers=headers, **options)
        assert_failure(response, 401, "API key")
        assert response.headers["www-authenticate"] == "Bearer"
        assert UNKNOWN not in response.text and ADMIN not in response.text

    assert (await ok(secured.get("/topics", headers=bearer(ADMIN))))["topics"] == ["kept"]
    details = await ok(secured.get("/topics/kept", headers=bearer(ADMIN)))
    assert (details["length"], details["producers"]) == (1, [producer_id])
    assert details["consumers"] == [{"consumer_id": consumer_id, "offset": 0, "lag": 1}]


async def test_health_metrics_and_docs_stay_open(secured: httpx.AsyncClient) -> None:
    for path in ("/status", "/metrics", "/docs", "/redoc", "/openapi.json"):
        response = await secured.get(path)
        assert response.status_code == 200, (path, response.text)
    schema = (await secured.get("/openapi.json")).json()
    scheme = schema["components"]["securitySchemes"]["APIKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    create = schema["paths"]["/topics"]["post"]
    assert create["security"] == [{"APIKey": []}]
    assert {"401", "403"} <= create["responses"].keys()
    assert "security" not in schema["paths"]["/status"]["get"]
    assert "security" not in schema["paths"]["/metrics"]["get"]


async def test_only_admin_keys_create_and_delete_topics(secured: httpx.AsyncClient) -> None:
    refused = await secured.post("/topics", json={"topic_name": "t"}, headers=bearer(ALICE))
    assert_failure(refused, 403, "Creating a topic needs an admin API key")
    implicit = await secured.post("/producer/register", json={"topic": "t"}, headers=bearer(ALICE))
    assert_failure(implicit, 403, "Topic 't' does not exist", "admin API key")
    assert (await ok(secured.get("/topics", headers=bearer(ALICE))))["topics"] == []

    await ok(secured.post("/topics", json={"topic_name": "t"}, headers=bearer(ADMIN)))
    await register(secured, "producer", "made-by-register", ADMIN)
    assert_failure(
        await secured.delete("/topics/t", headers=bearer(ALICE)),
        403,
        "Deleting a topic needs an admin API key",
    )
    topics = (await ok(secured.get("/topics", headers=bearer(ALICE))))["topics"]
    assert topics == ["t", "made-by-register"]
    await ok(secured.delete("/topics/t", headers=bearer(ADMIN)))
    assert (await ok(secured.get("/topics", headers=bearer(ADMIN))))["topics"] == [
        "made-by-register"
    ]


async def test_client_key_registers_and_uses_its_own_ids(secured: httpx.AsyncClient) -> None:
    await ok(secured.post("/topics", json={"topic_name": "logs"}, headers=bearer(ADMIN)))
    producer_id = await register(secured, "producer", "logs", ALICE)
    consumer_id = await register(secured, "consumer", "logs", ALICE)
    assert (await ok(produce(secured, "logs", producer_id, ALICE)))["offset"] == 0
    assert (await ok(produce(secured, "logs", producer_id, ALICE)))["offset"] == 1
    assert (await ok(size(secured, "logs", consumer_id, ALICE)))["size"] == 2
    assert (await ok(consume(secured, "logs", consumer_id, ALICE)))["offset"] == 0
    batch = await ok(consume(secured, "logs", consumer_id, ALICE, max_messages=10))
    assert [m["offset"] for m in batch["messages"]] == [1]
    details = await ok(secured.get("/topics/logs", headers=bearer(ALICE)))
    assert details["consumers"] == [{"consumer_id": consumer_id, "offset": 2, "lag": 0}]


async def test_another_client_key_gets_403_and_changes_nothing(
    secured: httpx.AsyncClient, empty_db: Settings
) -> None:
    await ok(secured.post("/topics", json={"topic_name": "logs"}, headers=bearer(ADMIN)))
    producer_id = await register(secured, "producer", "logs", ALICE)
    consumer_id = await register(secured, "consumer", "logs", ALICE)
    await ok(produce(secured, "logs", producer_id, ALICE))

    assert_failure(
        await produce(secured, "logs", producer_id, BOB),
        403,
        f"Producer {producer_id} belongs to another API key",
    )
    for response in (
        await consume(secured, "logs", consumer_id, BOB),
        await consume(secured, "logs", consumer_id, BOB, max_messages=10, wait_ms=0),
        await size(secured, "logs", consumer_id, BOB),
    ):
        assert_failure(response, 403, f"Consumer {consumer_id} belongs to another API key")

    assert (await ok(size(secured, "logs", consumer_id, ALICE)))["size"] == 1
    first = await ok(consume(secured, "logs", consumer_id, ALICE))
    assert (first["offset"], first["message"]) == (0, "from alice")
    # What is stored is the key's fingerprint, never the key.
    engine = create_engine(empty_db)
    async with engine.connect() as conn:
        owners = set((await conn.scalars(text("SELECT owner FROM producers"))).all())
        owners |= set((await conn.scalars(text("SELECT owner FROM consumers"))).all())
    await engine.dispose()
    assert owners == {hashlib.sha256(ALICE.encode()).hexdigest()}


async def test_admin_keys_may_use_any_id(secured: httpx.AsyncClient) -> None:
    producer_id = await register(secured, "producer", "logs", ADMIN)
    alice_producer = await register(secured, "producer", "logs", ALICE)
    alice_consumer = await register(secured, "consumer", "logs", ALICE)
    await ok(produce(secured, "logs", producer_id, ADMIN))
    await ok(produce(secured, "logs", alice_producer, ADMIN))
    assert (await ok(size(secured, "logs", alice_consumer, ADMIN)))["size"] == 2
    assert (await ok(consume(secured, "logs", alice_consumer, ADMIN)))["offset"] == 0
    # An admin id is not a client's to use.
    assert_failure(await produce(secured, "logs", producer_id, ALICE), 403, "another API key")


async def test_ids_from_before_access_control_need_an_admin_key(empty_db: Settings) -> None:
    async with serving(empty_db) as open_server:
        producer_id = await register(open_server, "producer", "old", UNKNOWN)
        consumer_id = await register(open_server, "consumer", "old", UNKNOWN)
    async with serving(keyed(empty_db, f"admin:{ADMIN}", ALICE)) as secured:
        assert_failure(
            await produce(secured, "old", producer_id, ALICE),
            403,
            f"Producer {producer_id} was registered while access control was off",
        )
        assert_failure(await size(secured, "old", consumer_id, ALICE), 403, "admin API key")
        await ok(produce(secured, "old", producer_id, ADMIN))
        assert (await ok(consume(secured, "old", consumer_id, ADMIN)))["offset"] == 0


async def test_keys_file_adds_to_the_variable(empty_db: Settings, tmp_path: Path) -> None:
    file_admin, file_client = "file-admin-0123456789abcdef", "file-client-0123456789abcdef"
    keys = tmp_path / "keys"
    keys.write_text(f"# operators\n  admin:{file_admin}  \n\n# services\n{file_client}\n")
    async with serving(keyed(empty_db, ALICE, api_keys_file=keys)) as secured:
        await ok(secured.post("/topics", json={"topic_name": "f"}, headers=bearer(file_admin)))
        refused = await secured.post("/topics", json={"topic_name": "g"}, headers=bearer(ALICE))
        assert_failure(refused, 403, "admin API key")
        for key in (file_client, ALICE):
            producer_id = await register(secured, "producer", "f", key)
            await ok(produce(secured, "f", producer_id, key))
        comment = await secured.get("/topics", headers=bearer("# operators"))
        assert_failure(comment, 401, "Unknown API key")


def test_keys_from_the_environment_are_split_and_kept_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOGQUEUE_API_KEYS", f" admin:{ADMIN}, {ALICE},,")
    settings = Settings()
    assert [key.get_secret_value() for key in settings.api_keys] == [f"admin:{ADMIN}", ALICE]
    assert ADMIN not in repr(settings) and ALICE not in settings.model_dump_json()


def test_a_key_listed_as_admin_and_as_client_is_an_admin_key() -> None:
    keys = KeyRing([("first", ALICE), ("second", f"admin:{ALICE}"), ("third", ALICE)])
    caller = keys.caller(ALICE)
    assert (caller.owner, caller.admin) == (fingerprint(ALICE), True)


@pytest.mark.parametrize(
    ("entries", "file_text", "problem"),
    [
        ([ALICE, "admin:short"], None, "LOGQUEUE_API_KEYS entry 2: an API key must be at least"),
        ([ALICE, "admin:"], None, "LOGQUEUE_API_KEYS entry 2"),
        ([], f"{ALICE}\n\n{BOB} and-more\n", "line 3: an API key must be"),
        ([ALICE], "# nothing here yet\n\n", "has no keys"),
    ],
)
def test_bad_key_configuration_stops_the_server_without_showing_keys(
    tmp_path: Path, entries: list[str], file_text: str | None, problem: str
) -> None:
    path = None
    if file_text is not None:
        path = tmp_path / "keys"
        path.write_text(file_text)
    settings = Settings(
        database_url="sqlite+aiosqlite:///:memory:", api_keys=entries, api_keys_file=path
    )
    with pytest.raises(ValueError, match=problem) as refused:
        create_app(settings)
    assert "short" not in str(refused.value) and BOB not in str(refused.value)


def logqueue(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "logqueue"), *args]
    environment = {**os.environ, **env}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)


def test_sdk_and_cli_send_the_key_to_a_real_server(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOGQUEUE_API_KEY", raising=False)
    keys = f"admin:{ADMIN},{ALICE},{BOB}"
    server = start_server(database_url, log_path=tmp_path / "log", LOGQUEUE_API_KEYS=keys)
    try:
        _use_keys_through_the_sdk_and_cli(server, f"auth-{uuid.uuid4().hex[:12]}", monkeypatch)
    finally:
        server.stop()
    assert not any(key in server.log() for key in (ADMIN, ALICE, BOB))


def _use_keys_through_the_sdk_and_cli(
    server: LiveServer, topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.url
    with Client(url) as anonymous, pytest.raises(AccessDenied) as missing:
        anonymous.list_topics()
    assert missing.value.status_code == 401
    with Client(url, api_key=ALICE) as alice, pytest.raises(AccessDenied) as refused:
        alice.create_topic(topic)
    assert refused.value.status_code == 403
    with Client(url, api_key=ADMIN) as admin:
        assert admin.create_topic(topic)

    with Producer(url, [topic], api_key=ALICE) as producer:
        assert producer.send(topic, "hello")

    async def send_async() -> bool:
        async with AsyncProducer(url, [topic], api_key=ALICE) as producer:
            return await producer.send(topic, "again")

    assert asyncio.run(send_async())
    with Consumer(url, [topic], api_key=ALICE) as consumer:
        received = [consumer.dequeue(topic) for _ in range(2)]
        assert [m.body for m in received if m] == ["hello", "again"]
        consumer_id = consumer.topic_id_map[topic]
    with (
        Consumer(url, api_key=BOB, consumer_ids={topic: consumer_id}) as bob,
        pytest.raises(AccessDenied, match="belongs to another API key"),
    ):
        bob.size(topic)
    monkeypatch.setenv("LOGQUEUE_API_KEY", ALICE)
    with Consumer(url, consumer_ids={topic: consumer_id}) as from_environment:
        assert from_environment.size(topic) == 0
    monkeypatch.delenv("LOGQUEUE_API_KEY")

    listed = logqueue("topics", "list", "--broker", url, "--api-key", ALICE)
    assert topic in listed.stdout.splitlines(), listed.stderr
    sent = logqueue("produce", topic, "from the CLI", "--broker", url, LOGQUEUE_API_KEY=ALICE)
    assert sent.returncode == 0, sent.stderr
    size = ("size", topic, "--consumer-id", str(consumer_id), "--broker", url)
    assert logqueue(*size, "--api-key", ALICE).stdout == "1\n"
    consumed = logqueue(
        "consume", topic, "--consumer-id", str(consumer_id), "--broker", url, "--api-key", ALICE
    )
    assert consumed.stdout == "from the CLI\n", consumed.stderr
    assert logqueue(*size, "--api-key", ALICE).stdout == "0\n"
    assert logqueue(*size, LOGQUEUE_API_KEY=ALICE).stdout == "0\n"
    denied = logqueue(*size, LOGQUEUE_API_KEY=BOB)
    assert (denied.returncode, denied.stderr) == (
        1,
        f"error: Consumer {consumer_id} belongs to another API key\n",
    )
    anonymous_cli = logqueue(*size)
    assert anonymous_cli.returncode == 1
    assert "Missing API key" in anonymous_cli.stderr
