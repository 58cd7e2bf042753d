"""GET /topics/{topic}/stream over real HTTP: events carry offsets as ids, resume by
Last-Event-ID, start where ``from`` says, move no consumer, and are capped in number."""

import asyncio
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import assert_failure, produce, register_consumer, register_producer
from tests.api.sse import EventReader, take
from tests.live_server import LiveServer, start_server


def unique() -> str:
    return f"stream-{uuid.uuid4().hex[:10]}"


async def test_from_earliest_sends_every_message_with_its_offset_as_id(
    live_server: LiveServer,
) -> None:
    topic = unique()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        producer = await register_producer(http, topic)
        for body in ("first", "second\nline", "third"):
            await produce(http, topic, producer, body)
        consumer = await register_consumer(http, topic)
        async with http.stream("GET", f"/topics/{topic}/stream?from=earliest") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            got = await take(response, 3)
        size = await http.get("/size", params={"topic": topic, "consumer_id": consumer})
    assert [e.id for e in got] == [0, 1, 2]
    assert [e.data["message"] for e in got if e.data] == ["first", "second\nline", "third"]
    assert all(e.data and e.data["offset"] == e.id for e in got)
    assert all(e.data and e.data["produced_at"].endswith("Z") for e in got)
    assert size.json()["size"] == 3  # the stream moved no consumer


async def test_from_latest_sends_only_messages_produced_after_it_opened(
    live_server: LiveServer,
) -> None:
    topic = unique()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        producer = await register_producer(http, topic)
        await produce(http, topic, producer, "old")
        async with http.stream("GET", f"/topics/{topic}/stream?from=latest") as response:
            assert response.status_code == 200  # headers are sent once the start is fixed
            await produce(http, topic, producer, "new")
            async with asyncio.timeout(5):
                got = await take(response, 1)
    assert [(e.id, e.data["message"] if e.data else None) for e in got] == [(1, "new")]


async def test_from_offset_and_last_event_id(live_server: LiveServer) -> None:
    topic = unique()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        producer = await register_producer(http, topic)
        for i in range(5):
            await produce(http, topic, producer, f"m{i}")
        async with http.stream("GET", f"/topics/{topic}/stream?from=2") as response:
            from_two = await take(response, 3)
        resume = {"Last-Event-ID": "3"}  # wins over from=earliest
        async with http.stream(
            "GET", f"/topics/{topic}/stream?from=earliest", headers=resume
        ) as response:
            after_three = await take(response, 1)
    assert [e.id for e in from_two] == [2, 3, 4]
    assert [e.id for e in after_three] == [4]


async def test_idle_stream_sends_keep_alive_comments(database_url: str, tmp_path: Path) -> None:
    server = start_server(
        database_url, log_path=tmp_path / "log", LOGQUEUE_STREAM_KEEPALIVE_S="0.2"
    )
    try:
        topic = unique()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            await register_producer(http, topic)
            async with http.stream("GET", f"/topics/{topic}/stream") as response:
                async with asyncio.timeout(5):
                    event = await EventReader(response).next_event()
        assert event.comment == "keep-alive"
    finally:
        server.stop()


async def test_a_stream_ends_when_its_lifetime_is_up(database_url: str, tmp_path: Path) -> None:
    server = start_server(database_url, log_path=tmp_path / "log", LOGQUEUE_STREAM_MAX_S="0.5")
    try:
        topic = unique()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            producer = await register_producer(http, topic)
            await produce(http, topic, producer, "before the end")
            async with http.stream("GET", f"/topics/{topic}/stream?from=earliest") as response:
                async with asyncio.timeout(5):  # the keep-alive (15 s) never comes first
                    got = await EventReader(response).rest()
        assert [(e.id, e.data["message"] if e.data else None) for e in got] == [
            (0, "before the end")
        ]
    finally:
        server.stop()


@pytest.fixture
def two_stream_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(database_url, log_path=tmp_path / "log", LOGQUEUE_MAX_STREAMS="2")
    yield server
    server.stop()


async def test_streams_past_the_limit_get_429_until_one_closes(
    two_stream_server: LiveServer,
) -> None:
    topic = unique()
    url = f"/topics/{topic}/stream"
    async with httpx.AsyncClient(base_url=two_stream_server.url, timeout=10) as http:
        producer = await register_producer(http, topic)
        await produce(http, topic, producer, "m")
        async with http.stream("GET", url + "?from=earliest") as first:
            first_events = EventReader(first)
            await first_events.take(1)
            async with http.stream("GET", url + "?from=earliest") as second:
                second_events = EventReader(second)
                await second_events.take(1)
                refused = await http.get(url)
                assert_failure(refused, 429, "Too many streams")
        # Both closed by the client: the server notices at its next write and frees the
        # slots; produce to make that write happen now rather than at the next keep-alive.
        await produce(http, topic, producer, "wake")

        async def reopened() -> int:
            while True:
                async with http.stream("GET", url) as again:
                    if again.status_code == 200:
                        return again.status_code
                await produce(http, topic, producer, "wake")

        async with asyncio.timeout(10):
            assert await reopened() == 200


async def test_unknown_topic_is_404_and_a_bad_last_event_id_422(live_server: LiveServer) -> None:
    topic = unique()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as http:
        missing = await http.get("/topics/nope-missing/stream")
        await register_producer(http, topic)
        bad_id = await http.get(f"/topics/{topic}/stream", headers={"Last-Event-ID": "x1"})
    assert_failure(missing, 404, "does not exist")
    assert_failure(bad_id, 422, "last-event-id")


async def test_stream_ends_cleanly_when_the_server_shuts_down(
    database_url: str, tmp_path: Path
) -> None:
    server = start_server(database_url, log_path=tmp_path / "log")
    try:
        topic = unique()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            producer = await register_producer(http, topic)
            await produce(http, topic, producer, "m")
            async with http.stream("GET", f"/topics/{topic}/stream?from=earliest") as response:
                reader = EventReader(response)
                await reader.take(1)
                server.process.terminate()
                async with asyncio.timeout(10):  # long before any keep-alive is due
                    rest = await reader.rest()  # ends without an error
        assert rest == []
        # uvicorn re-raises SIGTERM once its graceful shutdown is done
        assert server.process.wait(timeout=10) in (0, -signal.SIGTERM)
        assert "shutdown complete" in server.log()
    finally:
        server.stop()
