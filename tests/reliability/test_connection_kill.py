"""The server's database connections killed under load (``pg_terminate_backend`` on the
test's own database, again and again): requests that hit a dead connection answer 503
with Retry-After, never 500; the dead connection is replaced, not handed to the next
request; nothing acknowledged is lost; and the server recovers without a restart.

Before, asyncpg errors that mean "this connection is unusable" (``InternalClientError:
cannot switch to state …; another operation is in progress``, a connection closed in the
middle of an operation) were answered 500 and the broken connection went back to the pool.
"""

import asyncio
import re
import threading
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.database import driver_connect_args
from tests.live_server import start_server
from tests.reliability.load import (
    ProducerLoad,
    assert_exactly_once_in_order,
    register_consumer,
    stored_log,
)
from tests.sdk.helpers import wait_until

pytestmark = pytest.mark.postgres_only

PRODUCERS = 6
PER_PRODUCER = 200
READERS = 4
KILLS = 40
KILL_EVERY_S = 0.1


async def kill_connections(database_url: str, load: ProducerLoad) -> int:
    """Terminate every other backend of this database, ``KILLS`` times while the load runs;
    returns how many backends were ended."""
    killer = await asyncpg.connect(**driver_connect_args(database_url))
    ended = 0
    try:
        for _ in range(KILLS):
            if not load.running:
                break
            ended += await killer.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            await asyncio.sleep(KILL_EVERY_S)  # the pace of the attack, not a synchronisation
    finally:
        await killer.close()
    return ended


class Reader(threading.Thread):
    """Batch consumes in a loop over plain HTTP, recording every status (or the transport
    error, when the server drops the connection), until stopped."""

    def __init__(self, url: str, topic: str, consumer_id: int) -> None:
        super().__init__(daemon=True)
        self.params = {"topic": topic, "consumer_id": consumer_id, "max_messages": 10}
        self.url = url
        self.statuses: Counter[int | str] = Counter()
        self.received: list[tuple[int, str]] = []
        self.errors: list[BaseException] = []
        self._done = threading.Event()

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=30) as http:
                while not self._done.is_set():
                    try:
                        reply = http.get("/consumer/consume", params=self.params)
                    except httpx.TransportError as exc:  # the server dropped the connection
                        self.statuses[type(exc).__name__] += 1
                        continue
                    self.statuses[reply.status_code] += 1
                    if reply.status_code == 200:
                        batch = reply.json()["messages"]
                        self.received += [(m["offset"], m["message"]) for m in batch]
        except BaseException as exc:  # reported by stop(), in the test's thread
            self.errors.append(exc)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=60)
        assert not self.is_alive(), "a reader never finished"
        assert not self.errors, self.errors


def answered(url: str, status: str) -> int:
    """Requests the server answered with ``status``, from its own counter."""
    metrics = httpx.get(url + "/metrics", timeout=10).text
    pattern = rf'^logqueue_requests_total{{[^}}]*status="{status}"[^}}]*}} (\S+)$'
    return int(sum(float(v) for v in re.findall(pattern, metrics, re.MULTILINE)))


def test_killed_connections_answer_503_never_500_and_lose_nothing(
    fresh_pg: str, tmp_path: Path
) -> None:
    server = start_server(fresh_pg, log_path=tmp_path / "server.log")
    try:
        topic = "killed"
        assert httpx.post(server.url + "/topics", json={"topic_name": topic}).status_code == 200
        readers = [
            Reader(server.url, topic, register_consumer(server.url, topic)) for _ in range(READERS)
        ]
        load = ProducerLoad([server.url], topic, PRODUCERS, PER_PRODUCER)
        load.start()
        # Registering is not retried once sent (it is not idempotent): attack afterwards.
        wait_until(
            lambda: all(f"p{n}-0" in load.acknowledged for n in range(PRODUCERS)) or load.errors,
            what="every producer registered and sending",
        )
        for reader in readers:
            reader.start()
        try:
            ended = asyncio.run(kill_connections(fresh_pg, load))
            load.join()
        finally:
            for reader in readers:
                reader.stop()

        assert ended >= KILLS // 2, f"the attack ended only {ended} connections"
        assert answered(server.url, "500") == 0, "a killed connection was answered 500"
        assert "unhandled error" not in server.log()
        assert all(load.flushed)
        log = stored_log(fresh_pg, topic)
        assert_exactly_once_in_order(log, load)
        for reader in readers:
            assert set(reader.statuses) <= {200, 503}, reader.statuses
            # Consumes are at most once: one whose answer was lost with its connection
            # may have moved the offset; what arrived is the log's, in order, once each.
            offsets = [offset for offset, _ in reader.received]
            assert offsets == sorted(set(offsets))
            assert set(reader.received) <= set(log)

        # Recovered without a restart: every request works again.
        started = time.monotonic()
        reply = httpx.post(
            server.url + "/producer/produce",
            json={"topic": topic, "producer_id": load_producer(server.url, topic), "message": "x"},
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        assert httpx.get(server.url + "/status", timeout=10).json()["database"] == "ok"
        assert time.monotonic() - started < 10
    finally:
        server.stop()


def load_producer(url: str, topic: str) -> int:
    reply = httpx.post(url + "/producer/register", json={"topic": topic}, timeout=10)
    assert reply.status_code == 200, reply.text
    return int(reply.json()["producer_id"])
