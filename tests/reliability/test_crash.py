"""``kill -9`` of the server under load, during a long poll and during batch consumes.

A kill leaves every request in flight without an answer. A produce carries a sequence, so
the SDK repeats it once the server is back (restarted on the same port) and it is stored
exactly once. A consume advances the consumer's offset in the same statement that reads the
messages, so a batch whose answer was lost in the kill was consumed but never received:
consume is at-most-once, and what can be lost is exactly the one batch each consumer had in
flight. Nothing else is lost or delivered twice.
"""

import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from logqueue_sdk import Client, Producer
from tests.live_server import LiveServer, free_port, start_server
from tests.reliability.load import (
    DEADLINE,
    PATIENT,
    ProducerLoad,
    assert_exactly_once_in_order,
    long_poll_waiters,
    read_with_sdk,
    register_consumer,
    stored_log,
)
from tests.sdk.helpers import wait_until

pytestmark = pytest.mark.postgres_only

PRODUCERS = 8
PER_PRODUCER = 150
ACKS_BEFORE_KILL = 300
PRELOAD = 6000
BATCH = 50
RECEIVED_BEFORE_KILL = 1000


@dataclass
class Restartable:
    """A server that can be killed and brought back on the same port (clients keep their URL)."""

    database_url: str
    logs: Path
    port: int = field(default_factory=free_port)
    restarts: int = 0
    server: LiveServer | None = None

    def start(self) -> None:
        log_path = self.logs / f"server-{self.restarts}.log"
        self.server = start_server(self.database_url, port=self.port, log_path=log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill_and_restart(self) -> None:
        assert self.server is not None
        assert self.server.stop(signal.SIGKILL) == -signal.SIGKILL
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def server(fresh_pg: str, tmp_path: Path) -> Iterator[Restartable]:
    restartable = Restartable(fresh_pg, tmp_path)
    restartable.start()
    yield restartable
    restartable.stop()


def consume(http: httpx.Client, topic: str, consumer_id: int, wait_ms: int = 0) -> httpx.Response:
    params = {"topic": topic, "consumer_id": consumer_id, "max_messages": BATCH}
    return http.get("/consumer/consume", params={**params, "wait_ms": wait_ms})


def size(url: str, topic: str, consumer_id: int) -> int:
    params = {"topic": topic, "consumer_id": consumer_id}
    return int(httpx.get(url + "/size", params=params, timeout=30).json()["size"])


def test_kill_9_while_eight_producers_send(server: Restartable) -> None:
    topic = "crash"
    with Client(server.url) as admin:
        admin.create_topic(topic)
    readers = [register_consumer(server.url, topic) for _ in range(2)]
    load = ProducerLoad([server.url], topic, PRODUCERS, PER_PRODUCER)
    load.start()
    load.wait_for_acks(ACKS_BEFORE_KILL)
    server.kill_and_restart()
    acknowledged_at_restart = load.acks
    load.join()

    total = PRODUCERS * PER_PRODUCER
    assert acknowledged_at_restart < total, "the kill came after the producers had finished"
    assert all(load.flushed), "a kept message was never delivered"
    log = stored_log(server.database_url, topic)
    assert_exactly_once_in_order(log, load)
    assert sorted(body for _, body in log) == sorted(load.sent()), "a message was lost"
    assert len(log) == total
    for consumer_id in readers:
        assert read_with_sdk(server.url, topic, consumer_id, total) == log
        assert size(server.url, topic, consumer_id) == 0


def test_kill_9_during_a_long_poll(server: Restartable) -> None:
    """Consumers parked in a long poll when the server dies have lost nothing: the offset
    only moves when messages are read, and there were none to read."""
    topic = "poll"
    with Producer(server.url, [topic], retries=PATIENT) as producer:
        assert producer.send_batch(topic, [f"before-{i}" for i in range(10)])
        consumer_ids = [register_consumer(server.url, topic) for _ in range(2)]
        received: dict[int, list[tuple[int, str]]] = {c: [] for c in consumer_ids}
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for consumer_id in consumer_ids:
                batch = consume(http, topic, consumer_id).json()["messages"]
                received[consumer_id] += [(m["offset"], m["message"]) for m in batch]
        outcomes: list[BaseException | httpx.Response] = []

        def long_poll(consumer_id: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                try:
                    outcomes.append(consume(http, topic, consumer_id, wait_ms=30_000))
                except httpx.TransportError as exc:
                    outcomes.append(exc)

        polls = [threading.Thread(target=long_poll, args=(c,)) for c in consumer_ids]
        for poll in polls:
            poll.start()
        wait_until(lambda: long_poll_waiters(server.url) == 2, what="both polls to be parked")
        server.kill_and_restart()
        for poll in polls:
            poll.join(timeout=DEADLINE)
        assert len(outcomes) == 2
        assert all(isinstance(o, httpx.TransportError) for o in outcomes), "a poll was answered"

        for consumer_id in consumer_ids:
            assert size(server.url, topic, consumer_id) == 0, "the offset moved during the poll"
        assert producer.send_batch(topic, [f"after-{i}" for i in range(5)])
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for consumer_id in consumer_ids:
            batch = consume(http, topic, consumer_id, wait_ms=10_000).json()["messages"]
            received[consumer_id] += [(m["offset"], m["message"]) for m in batch]
            assert consume(http, topic, consumer_id).json()["messages"] == []
    log = stored_log(server.database_url, topic)
    assert len(log) == 15
    for stream in received.values():
        assert stream == log


@dataclass
class Drain:
    """One consumer reading the whole topic in batches, across the kill."""

    consumer_id: int
    before_kill: list[tuple[int, str]] = field(default_factory=list)
    after_restart: list[tuple[int, str]] = field(default_factory=list)
    in_flight_at_kill: list[int] = field(default_factory=list)
    """The last offset received before each request that died unanswered."""
    refused_while_down: int = 0


def drain(
    url: str, topic: str, reader: Drain, progress: threading.Condition, restarted: threading.Event
) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        while True:
            try:
                reply = consume(http, topic, reader.consumer_id)
            except httpx.ConnectError:
                reader.refused_while_down += 1  # never reached a server: nothing consumed
                assert restarted.wait(DEADLINE)
                continue
            except httpx.TransportError:
                last = reader.before_kill[-1][0] if reader.before_kill else -1
                reader.in_flight_at_kill.append(last)
                assert restarted.wait(DEADLINE)
                continue
            batch = [(m["offset"], m["message"]) for m in reply.json()["messages"]]
            if not batch:
                return
            stream = reader.after_restart if restarted.is_set() else reader.before_kill
            with progress:
                stream.extend(batch)
                progress.notify_all()


def test_kill_9_during_batch_consumes(server: Restartable) -> None:
    topic = "drain"
    bodies = [f"m{i}" for i in range(PRELOAD)]
    with Producer(server.url, [topic], retries=PATIENT) as producer:
        for start in range(0, PRELOAD, 1000):
            assert producer.send_batch(topic, bodies[start : start + 1000])
    readers = [Drain(register_consumer(server.url, topic)) for _ in range(2)]
    progress, restarted = threading.Condition(), threading.Event()
    threads = [
        threading.Thread(target=drain, args=(server.url, topic, r, progress, restarted))
        for r in readers
    ]
    for thread in threads:
        thread.start()
    with progress:
        assert progress.wait_for(
            lambda: all(len(r.before_kill) >= RECEIVED_BEFORE_KILL for r in readers), DEADLINE
        )
    server.kill_and_restart()
    restarted.set()
    for thread in threads:
        thread.join(timeout=DEADLINE)
        assert not thread.is_alive()

    log = stored_log(server.database_url, topic)
    assert log == list(enumerate(bodies))
    for reader in readers:
        assert len(reader.before_kill) < PRELOAD, "the kill came after this consumer finished"
        received = reader.before_kill + reader.after_restart
        offsets = [offset for offset, _ in received]
        assert offsets == sorted(set(offsets)), "a message was received twice or out of order"
        assert all(log[offset] == (offset, body) for offset, body in received)
        lost = sorted(set(range(PRELOAD)) - set(offsets))
        # At most the one batch in flight at the kill, right after what was received.
        assert len(reader.in_flight_at_kill) <= 1
        if lost:
            (last_received,) = reader.in_flight_at_kill
            assert lost == list(range(last_received + 1, last_received + 1 + len(lost)))
            assert len(lost) <= BATCH
        assert reader.before_kill + [log[o] for o in lost] + reader.after_restart == log
