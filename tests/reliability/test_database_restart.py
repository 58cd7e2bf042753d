"""PostgreSQL stopped and started under load: fast 503s while it is down, recovery without
restarting the server, and nothing acknowledged lost or stored twice.

The module owns a second cluster (``scripts/restart-cluster.sh``) with a name and port of its
own, removed at the end, so that stopping it disturbs nobody else's tests: neither the shared
cluster nor another run's restart cluster. It needs root (to act as ``postgres``) and Debian's
``pg_createcluster``/``pg_ctlcluster``; without them it skips, saying why.
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from logqueue_sdk import Client, Producer
from tests.conftest import STALE_AFTER_SECONDS, clear_tables, session_database_name
from tests.live_server import LiveServer, free_port, start_server
from tests.reliability.load import (
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

SCRIPT = Path(__file__).parents[2] / "scripts" / "restart-cluster.sh"
PRODUCERS = 8
PER_PRODUCER = 100
ACKS_BEFORE_STOP = 200


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://logqueue:logqueue@127.0.0.1:{self.port}/logqueue_restart"

    def stop(self, mode: str = "fast") -> None:
        """Returns once PostgreSQL is down. ``fast`` cuts off open sessions and shuts down
        cleanly; ``immediate`` is a crash: no checkpoint, WAL replayed at the next start."""
        self._ctl("stop", "-m", mode)

    def start(self) -> None:
        self._ctl("start")

    def _ctl(self, *action: str) -> None:
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, *action]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def script(self, action: str) -> subprocess.CompletedProcess[str]:
        environment = {
            **os.environ,
            "LOGQUEUE_PG_VERSION": self.version,
            "LOGQUEUE_RESTART_CLUSTER": self.name,
            "LOGQUEUE_RESTART_PORT": str(self.port),
        }
        return subprocess.run(
            ["bash", str(SCRIPT), action], env=environment, capture_output=True, text=True
        )


def _why_not_controllable() -> str | None:
    if os.geteuid() != 0:
        return "stopping and starting a PostgreSQL cluster needs root (to act as postgres)"
    missing = [tool for tool in ("pg_createcluster", "pg_ctlcluster") if not shutil.which(tool)]
    if missing or not Path("/etc/postgresql").is_dir():
        return (
            f"no Debian PostgreSQL cluster tools here ({', '.join(missing) or '/etc/postgresql'})"
        )
    return None


@pytest.fixture(scope="module")
def owned_cluster() -> Iterator[Cluster]:
    """This module's cluster: a name and a free port of its own, dropped at the end."""
    reason = _why_not_controllable()
    if reason:
        pytest.skip(f"cannot control a PostgreSQL cluster: {reason}")
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])
    drop_stale_clusters(version[-1])
    owned = Cluster(version[-1], session_database_name("logqueue_restart"), free_port())
    try:
        yield owned
    finally:
        dropped = owned.script("drop")
        assert dropped.returncode == 0, f"{SCRIPT.name} drop failed:\n{dropped.stderr}"


@pytest.fixture
def cluster(owned_cluster: Cluster) -> Cluster:
    """The cluster created or, after an earlier test, started again: up and reachable."""
    done = owned_cluster.script("up")
    assert done.returncode == 0, f"{SCRIPT.name} failed:\n{done.stdout}\n{done.stderr}"
    return owned_cluster


def drop_stale_clusters(version: str) -> None:
    """Remove restart clusters whose run ended without removing them (killed runs)."""
    cutoff = time.time() - STALE_AFTER_SECONDS
    for name in os.listdir(f"/etc/postgresql/{version}"):
        stamp = re.fullmatch(r"logqueue_restart_(\d{10})_[0-9a-f]{8}", name)
        if stamp and int(stamp.group(1)) < cutoff:
            Cluster(version, name, port=0).script("drop")


def request_log(server: LiveServer) -> list[dict[str, object]]:
    """The server's per-request JSON log lines."""
    entries = (json.loads(line) for line in server.log().splitlines() if line.startswith("{"))
    return [entry for entry in entries if entry.get("logger") == "logqueue.request"]


def produces_refused(servers: list[LiveServer]) -> int:
    return sum(
        entry["route"] == "/producer/produce" and entry["status"] == 503
        for server in servers
        for entry in request_log(server)
    )


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_database_stop_and_start_under_load(cluster: Cluster, mode: str, tmp_path: Path) -> None:
    servers: list[LiveServer] = []
    try:
        for i in (0, 1):
            servers.append(start_server(cluster.url, log_path=tmp_path / f"server-{i}.log"))
        asyncio.run(clear_tables(Settings(database_url=cluster.url)))
        run_load_across_a_database_restart(cluster, mode, servers)
    finally:
        for server in servers:
            server.stop()


def run_load_across_a_database_restart(
    cluster: Cluster, mode: str, servers: list[LiveServer]
) -> None:
    first, second = servers
    pids = [server.process.pid for server in servers]
    topic = "restart"
    with Client(first.url) as admin:
        admin.create_topic(topic)
    readers = [register_consumer(server.url, topic) for server in servers]
    load = ProducerLoad([server.url for server in servers], topic, PRODUCERS, PER_PRODUCER)
    load.start()
    load.wait_for_acks(ACKS_BEFORE_STOP)

    cluster.stop(mode)
    status = httpx.get(first.url + "/status", timeout=10)
    assert (status.status_code, status.json()["database"]) == (503, "unavailable")
    probe = {"topic": topic, "producer_id": 1, "message": "while down"}
    refused = httpx.post(second.url + "/producer/produce", json=probe, timeout=10)
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["message"].startswith("Database unavailable")
    acknowledged_when_down = load.acks
    wait_until(lambda: produces_refused(servers) >= PRODUCERS, what="producers refused with 503")
    assert load.acks == acknowledged_when_down, "a produce was acknowledged with no database"
    cluster.start()
    load.join()

    assert [server.process.pid for server in servers] == pids
    assert all(server.process.poll() is None for server in servers), "a server died"
    for server in servers:
        assert httpx.get(server.url + "/status", timeout=10).json()["database"] == "ok"
    assert acknowledged_when_down < PRODUCERS * PER_PRODUCER
    assert all(load.flushed), "a kept message was never delivered"
    log = stored_log(cluster.url, topic)
    assert_exactly_once_in_order(log, load)
    assert sorted(body for _, body in log) == sorted(load.sent()), "a message was lost"
    for server, consumer_id in zip(reversed(servers), readers, strict=True):
        assert read_with_sdk(server.url, topic, consumer_id, len(log)) == log
    statuses = Counter(entry["status"] for server in servers for entry in request_log(server))
    assert [status for status in statuses if int(str(status)) >= 500] == [503], statuses
    assert_long_poll_woken_across_processes(servers, topic, len(log))


def assert_long_poll_woken_across_processes(
    servers: list[LiveServer], topic: str, next_offset: int
) -> None:
    """After the restart each process hears the other's produces again (LISTEN reconnected).

    The poll would also answer at its own 30 s timeout, so it must be answered well before.
    """
    producer_side, waiter_side = servers
    consumer_id = register_consumer(waiter_side.url, topic)
    params = {"topic": topic, "consumer_id": consumer_id, "max_messages": 1000}
    answers: list[httpx.Response] = []

    def long_poll(http: httpx.Client) -> None:
        answers.append(http.get("/consumer/consume", params={**params, "wait_ms": 30_000}))

    with httpx.Client(base_url=waiter_side.url, timeout=60) as http:
        caught_up = http.get("/consumer/consume", params=params).json()["messages"]
        assert len(caught_up) == next_offset
        poll = threading.Thread(target=long_poll, args=(http,))
        poll.start()
        wait_until(lambda: long_poll_waiters(waiter_side.url) == 1, what="the poll to be parked")
        with Producer(producer_side.url, [topic], retries=PATIENT) as producer:
            assert producer.send(topic, "wake up")
        poll.join(timeout=15)
        assert not poll.is_alive(), "a produce on one process did not wake a poll on the other"
    assert answers[0].json()["messages"][0]["offset"] == next_offset
    assert answers[0].json()["messages"][0]["message"] == "wake up"
