"""Retries over real sockets: what is repeated, and what never is.

A healthy LogQueue never answers 5xx or stays silent, so those cases use ``StubBroker``; the
reconnect case starts a real server while the client is already retrying. Produces carry a
sequence, so they are repeated like reads, always with the same sequence and body.
"""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logqueue_sdk import (
    AsyncClient,
    AsyncConsumer,
    AsyncProducer,
    BrokerUnavailable,
    Client,
    Consumer,
    Producer,
    RetryPolicy,
)
from tests.live_server import LiveServer, free_port, start_server
from tests.sdk.helpers import wait_until
from tests.sdk.stub_broker import SILENCE, Answer, StubBroker

FAST = RetryPolicy(retries=2, backoff=0.01, max_backoff=0.02)
ATTEMPTS = 1 + FAST.retries
HEALTHY = Answer(body={"status": "success", "database": "ok", "version": "9"})
UNAVAILABLE = Answer(503, {"status": "failure", "message": "busy"}, {"retry-after": "0"})
REGISTERED = {
    "POST /producer/register": [Answer(body={"status": "success", "producer_id": 7})],
    "POST /consumer/register": [Answer(body={"status": "success", "consumer_id": 9})],
}


def seen_all(stub: StubBroker, method: str, path: str, expected: int) -> int:
    """How many such requests the stub recorded, once it has recorded ``expected`` of them:
    a silent answer's request is recorded by the stub's own thread, which on a loaded
    machine may run only after the client gave up on it."""
    wait_until(lambda: stub.count(method, path) >= expected, timeout=10)
    return stub.count(method, path)


@pytest.fixture
def silent() -> Iterator[StubBroker]:
    script = {
        **REGISTERED,
        "POST /producer/produce": [Answer(body=SILENCE)],
        "GET /consumer/consume": [Answer(body=SILENCE)],
        "GET /size": [Answer(body=SILENCE)],
    }
    with StubBroker(script) as stub:
        yield stub


def stored(offset: int) -> Answer:
    return Answer(body={"status": "success", "offset": offset})


def sequences(stub: StubBroker) -> list[tuple[Any, ...]]:
    """(sequence, message or messages) of every produce the stub received, in order."""
    return [
        (body["sequence"], body.get("message", body.get("messages")))
        for body in stub.bodies("POST", "/producer/produce")
    ]


@pytest.fixture
def overloaded() -> Iterator[StubBroker]:
    script = {
        **REGISTERED,
        "GET /status": [UNAVAILABLE, UNAVAILABLE, HEALTHY],
        "GET /topics": [Answer(502, "<html>Bad Gateway</html>")],
        "POST /topics": [UNAVAILABLE],
        "POST /producer/produce": [UNAVAILABLE],
    }
    with StubBroker(script) as stub:
        yield stub


def test_safe_calls_are_retried_on_5xx(overloaded: StubBroker) -> None:
    with Client(overloaded.url, retries=FAST) as client:
        assert client.status().healthy
        assert overloaded.count("GET", "/status") == 3
        with pytest.raises(BrokerUnavailable, match="Bad Gateway") as caught:
            client.list_topics()
        assert caught.value.status_code == 502
        assert overloaded.count("GET", "/topics") == 1 + FAST.retries


async def test_safe_calls_are_retried_on_5xx_async(overloaded: StubBroker) -> None:
    async with AsyncClient(overloaded.url, retries=FAST) as client:
        assert (await client.status()).healthy
        assert overloaded.count("GET", "/status") == 3
        with pytest.raises(BrokerUnavailable):
            await client.list_topics()
        assert overloaded.count("GET", "/topics") == 1 + FAST.retries


def test_state_changes_are_not_repeated_after_5xx(overloaded: StubBroker) -> None:
    with Client(overloaded.url, retries=FAST) as client, pytest.raises(BrokerUnavailable):
        client.create_topic("t")
    assert overloaded.count("POST", "/topics") == 1
    with Producer(overloaded.url, ["t"], retries=FAST) as producer:
        assert producer.send("t", "m") is False
        assert not producer.can_send()
    assert sequences(overloaded) == [(0, "m")] * ATTEMPTS


async def test_state_changes_are_not_repeated_after_5xx_async(overloaded: StubBroker) -> None:
    async with AsyncProducer(overloaded.url, ["t"], retries=FAST) as producer:
        assert await producer.send_batch("t", ["m", "n"]) is False
        assert not producer.can_send()
    assert sequences(overloaded) == [(0, ["m", "n"])] * ATTEMPTS


@pytest.fixture
def recovering() -> Iterator[StubBroker]:
    """503 for the first send and its retries and once more, then the broker stores."""
    script = {**REGISTERED, "POST /producer/produce": [UNAVAILABLE] * (ATTEMPTS + 1)}
    script["POST /producer/produce"] += [stored(0), stored(1)]
    with StubBroker(script) as stub:
        yield stub


def test_a_failed_send_is_kept_and_sent_first_with_its_sequence(recovering: StubBroker) -> None:
    with Producer(recovering.url, ["t"], retries=FAST) as producer:
        assert producer.send("t", "m") is False
        assert producer.send("t", "n") is True
        assert producer.can_send()
    assert sequences(recovering) == [(0, "m")] * (ATTEMPTS + 2) + [(1, "n")]


async def test_a_failed_send_is_kept_and_flushed_async(recovering: StubBroker) -> None:
    async with AsyncProducer(recovering.url, ["t"], retries=FAST) as producer:
        assert await producer.send("t", "m") is False
        assert await producer.flush() is True
        assert await producer.send("t", "n") is True
    assert sequences(recovering) == [(0, "m")] * (ATTEMPTS + 2) + [(1, "n")]


def test_unanswered_produce_is_repeated_and_consume_is_not(silent: StubBroker) -> None:
    producer = Producer(silent.url, ["t"], timeout=0.3, retries=FAST)
    assert producer.send("t", "m") is False
    assert seen_all(silent, "POST", "/producer/produce", ATTEMPTS) == ATTEMPTS
    assert sequences(silent) == [(0, "m")] * ATTEMPTS
    producer.stop()
    consumer = Consumer(silent.url, ["t"], timeout=0.3, retries=FAST)
    with pytest.raises(BrokerUnavailable, match="may or may not have taken effect"):
        consumer.dequeue("t")
    assert seen_all(silent, "GET", "/consumer/consume", 1) == 1
    with pytest.raises(BrokerUnavailable) as caught:
        consumer.size("t")
    assert "may or may not" not in caught.value.message
    assert seen_all(silent, "GET", "/size", 1 + FAST.retries) == 1 + FAST.retries
    consumer.stop()


async def test_unanswered_produce_is_repeated_and_consume_is_not_async(
    silent: StubBroker,
) -> None:
    async with AsyncProducer(silent.url, ["t"], timeout=0.3, retries=FAST) as producer:
        assert await producer.send("t", "m") is False
    assert seen_all(silent, "POST", "/producer/produce", ATTEMPTS) == ATTEMPTS
    assert sequences(silent) == [(0, "m")] * ATTEMPTS
    async with AsyncConsumer(silent.url, ["t"], timeout=0.3, retries=FAST) as consumer:
        with pytest.raises(BrokerUnavailable, match="may or may not have taken effect"):
            await consumer.dequeue("t")
        with pytest.raises(BrokerUnavailable):
            await consumer.size("t")
    assert seen_all(silent, "GET", "/consumer/consume", 1) == 1
    assert seen_all(silent, "GET", "/size", 1 + FAST.retries) == 1 + FAST.retries


def test_stop_cuts_a_retry_wait_short() -> None:
    patient = RetryPolicy(retries=1000, backoff=0.05, max_backoff=0.05)
    producer = Producer(f"127.0.0.1:{free_port()}", retries=patient)
    results: list[bool] = []
    sending = threading.Thread(target=lambda: results.append(producer.send("t", "m")))
    sending.start()
    wait_until(lambda: producer._gate.busy, what="the send to be retrying")
    producer.stop()
    sending.join(timeout=30)
    assert results == [False]


def test_calls_succeed_when_the_broker_comes_up_during_retries(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    started: list[LiveServer] = []
    starting = threading.Thread(
        target=lambda: started.append(
            start_server(database_url, port=port, log_path=tmp_path / "server.log")
        )
    )
    patient = RetryPolicy(retries=100, backoff=0.05, max_backoff=0.3)
    with Client(f"127.0.0.1:{port}", retries=patient) as client:
        starting.start()
        try:
            assert client.status().healthy
            assert isinstance(client.list_topics(), list)
        finally:
            starting.join(timeout=60)
            for server in started:
                server.stop()
