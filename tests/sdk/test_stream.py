"""``Client.stream`` / ``AsyncClient.stream`` and ``logqueue tail`` against a live server."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from logqueue_sdk import AsyncClient, Client, Producer, RetryPolicy, TopicNotFound
from tests.live_server import LiveServer, start_server
from tests.processes import running
from tests.sdk.cutting_relay import CuttingRelay
from tests.sdk.helpers import wait_until
from tests.sdk.test_cli import _lines_of

LOGQUEUE = str(Path(sys.executable).parent / "logqueue")
PATIENT = RetryPolicy(retries=50, backoff=0.01, max_backoff=0.1)


def produce(broker: str, topic: str, bodies: list[str]) -> None:
    with Producer(broker, [topic]) as producer:
        assert producer.send_batch(topic, bodies)


def test_sync_stream_from_earliest_then_live(broker: str, topic: str) -> None:
    produce(broker, topic, ["a", "b"])
    with Client(broker) as client:
        stream = client.stream(topic, start="earliest")
        first = [next(stream) for _ in range(2)]
        produce(broker, topic, ["c"])
        live = next(stream)
        stream.close()
    assert [(m.topic, m.offset, m.body) for m in [*first, live]] == [
        (topic, 0, "a"),
        (topic, 1, "b"),
        (topic, 2, "c"),
    ]
    assert live.produced_at is not None and live.produced_at.tzinfo is not None


async def test_async_stream_from_an_offset(broker: str, topic: str) -> None:
    produce(broker, topic, [f"m{i}" for i in range(5)])
    async with AsyncClient(broker) as client:
        stream = client.stream(topic, start=3)
        got = [await anext(stream) for _ in range(2)]
        await stream.aclose()
    assert [(m.offset, m.body) for m in got] == [(3, "m3"), (4, "m4")]


def test_sync_stream_resumes_after_cut_connections_without_loss_or_repeat(
    broker: str, topic: str
) -> None:
    bodies = [f"message {i} " + "x" * (i % 7) * 10 for i in range(40)]
    produce(broker, topic, bodies)
    with CuttingRelay(broker, cut_after=400) as relay, Client(relay.url, retries=PATIENT) as c:
        stream = c.stream(topic, start="earliest")
        got = [next(stream) for _ in range(len(bodies))]
        stream.close()
    assert relay.connections >= 5  # the stream really was cut, many times
    assert [(m.offset, m.body) for m in got] == list(enumerate(bodies))


async def test_async_stream_resumes_after_cut_connections_without_loss_or_repeat(
    broker: str, topic: str
) -> None:
    bodies = [f"async {i}" for i in range(40)]
    produce(broker, topic, bodies)
    with CuttingRelay(broker, cut_after=400) as relay:
        async with AsyncClient(relay.url, retries=PATIENT) as client:
            stream = client.stream(topic, start="earliest")
            got = [await anext(stream) for _ in range(len(bodies))]
            await stream.aclose()
    assert relay.connections >= 5
    assert [(m.offset, m.body) for m in got] == list(enumerate(bodies))


def streams_ended(server: LiveServer) -> int:
    """Stream requests the server has finished (its one log line per request)."""
    return server.log_path.read_text().count('"/topics/{topic}/stream"')


def test_stream_resumes_when_the_broker_ends_it_at_its_lifetime(
    database_url: str, tmp_path: Path, topic: str
) -> None:
    server = start_server(database_url, log_path=tmp_path / "log", LOGQUEUE_STREAM_MAX_S="0.3")
    try:
        with Client(server.url, retries=PATIENT) as client:
            stream = client.stream(topic, start="earliest")
            got = []
            for i in range(6):  # each message after the server ended at least one stream
                produce(server.url, topic, [f"m{i}"])
                got.append(next(stream))
                wait_until(lambda n=i + 1: streams_ended(server) >= n, timeout=10)
            stream.close()
    finally:
        server.stop()
    assert [(m.offset, m.body) for m in got] == [(i, f"m{i}") for i in range(6)]


def test_stream_of_a_missing_topic_raises(broker: str, topic: str) -> None:
    with Client(broker) as client, pytest.raises(TopicNotFound):
        next(client.stream(topic))


def test_tail_prints_new_messages_until_interrupted(broker: str, topic: str) -> None:
    produce(broker, topic, ["old"])
    with running(
        [LOGQUEUE, "tail", topic, "--from", "earliest", "--broker", broker],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as tailing:
        lines = _lines_of(tailing)
        assert lines.get(timeout=30) == "old"
        produce(broker, topic, ["new 1", "new 2"])
        assert [lines.get(timeout=30) for _ in range(2)] == ["new 1", "new 2"]
        tailing.send_signal(signal.SIGINT)
        assert tailing.wait(timeout=30) == 130


def test_stream_start_is_checked(broker: str) -> None:
    with Client(broker) as client, pytest.raises(ValueError, match="start"):
        next(client.stream("t", start="yesterday"))  # type: ignore[arg-type]
