"""PostgreSQL failover under load on a real Patroni + etcd cluster (``scripts/ha-cluster.sh``):
the primary's postmaster is killed with -9 while eight SDK producers and two consumers use
two LogQueue processes, the synchronous standby is promoted, and nothing acknowledged is
lost or stored twice. The old primary rejoins as the standby and the second failover, back
to it, loses nothing either. A long poll parked across each failover returns and the next
one works, woken across processes through the LISTEN connection that followed the primary.

Needs root, PostgreSQL 15 and the Debian packages ``patroni etcd-server curl`` (``make
ha-packages``); without them it skips, saying why, unless ``LOGQUEUE_REQUIRE_HA=1`` (CI).
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from logqueue_sdk import Client, Producer
from tests.live_server import LiveServer, start_server
from tests.reliability.load import (
    DEADLINE,
    PATIENT,
    ProducerLoad,
    assert_exactly_once_in_order,
    long_poll_waiters,
    register_consumer,
    stored_log,
)
from tests.sdk.helpers import wait_until

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

SCRIPT = Path(__file__).parents[2] / "scripts" / "ha-cluster.sh"
PRODUCERS = 8
PER_PRODUCER = 60
ACKS_BEFORE_KILL = 120
BATCH = 20
CONNECT_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class HaCluster:
    """One ``ha-cluster.sh`` cluster in a scratch directory and port range of this run."""

    directory: Path
    base_port: int

    def run(self, action: str) -> str:
        environment = {
            **os.environ,
            "LOGQUEUE_HA_DIR": str(self.directory),
            "LOGQUEUE_HA_PORT": str(self.base_port),
        }
        done = subprocess.run(
            ["bash", str(SCRIPT), action],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"ha-cluster.sh {action}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def members(self) -> dict[str, str]:
        """Member name -> role, from ``ha-cluster.sh status`` (patronictl's table); only
        members whose PostgreSQL is running or streaming."""
        roles = {}
        for line in self.run("status").splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if len(cells) >= 4 and cells[0].startswith("node"):
                name, _host, role, state = cells[:4]
                if state in ("running", "streaming"):
                    roles[name] = role
        return roles

    def leader(self) -> str | None:
        return next((name for name, role in self.members().items() if role == "Leader"), None)


def _why_no_cluster() -> str | None:
    if os.geteuid() != 0:
        return "ha-cluster.sh runs PostgreSQL as the postgres user and needs root"
    missing = [tool for tool in ("patroni", "patronictl", "etcd", "curl") if not shutil.which(tool)]
    if not Path("/usr/lib/postgresql/15/bin/postgres").exists():
        missing.append("postgresql-15")
    if missing:
        return f"missing {', '.join(missing)}: run `make ha-packages` (as .ci/run does)"
    return None


def _free_port_block(size: int = 6) -> int:
    """The first of ``size`` consecutive free local ports, so two runs can coexist."""
    for base in range(21000 + os.getpid() % 1000 * 7, 60000, 7):
        sockets = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no block of free ports")


@pytest.fixture(scope="module")
def ha_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HaCluster, str]]:
    reason = _why_no_cluster()
    if reason:
        if os.environ.get("LOGQUEUE_REQUIRE_HA") == "1":
            pytest.fail(f"cannot run the failover tests: {reason} (LOGQUEUE_REQUIRE_HA=1)")
        pytest.skip(f"SKIPPING THE POSTGRESQL FAILOVER TESTS: {reason}")
    cluster = HaCluster(Path(f"/var/tmp/logqueue-ha-test-{os.getpid()}"), _free_port_block())
    try:
        url = cluster.run("up").strip().splitlines()[-1]
        yield cluster, url
    finally:
        # Patroni's and etcd's logs outlive the scratch directory, for a failure's post-mortem.
        kept = tmp_path_factory.mktemp("ha-cluster-logs")
        for log in cluster.directory.glob("*.log"):
            shutil.copy(log, kept / log.name)
        cluster.run("down")


@pytest.fixture(scope="module")
def servers(
    ha_cluster: tuple[HaCluster, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LiveServer]]:
    _, url = ha_cluster
    logs = tmp_path_factory.mktemp("failover")
    environment = {"LOGQUEUE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S)}
    first = start_server(url, log_path=logs / "first.log", **environment)
    try:
        second = start_server(url, log_path=logs / "second.log", **environment)
        try:
            yield [first, second]
        finally:
            second.stop()
    finally:
        first.stop()


@dataclass
class Reader:
    """A consumer reading in batches through one server across the failover."""

    url: str
    topic: str
    consumer_id: int
    received: list[tuple[int, str]] = field(default_factory=list)
    unanswered_after: list[int] = field(default_factory=list)
    """The last offset received before each consume that failed (503 or cut off): that
    consume may have moved the offset past one batch it never delivered (at-most-once)."""
    errors: list[BaseException] = field(default_factory=list)

    def read(self, stop: threading.Event) -> None:
        """Read until ``stop`` is set and the topic is drained; a refusal is retried after
        its ``Retry-After``, as a client should."""
        params = {"topic": self.topic, "consumer_id": self.consumer_id, "max_messages": BATCH}
        try:
            with httpx.Client(base_url=self.url, timeout=30) as http:
                while True:
                    try:
                        reply = http.get("/consumer/consume", params=params)
                    except httpx.TransportError:
                        reply = None
                    if reply is None or reply.status_code != 200:
                        assert reply is None or reply.status_code == 503, reply.text
                        last = self.received[-1][0] if self.received else -1
                        self.unanswered_after.append(last)
                        time.sleep(float(reply.headers["retry-after"]) if reply else 0.5)
                        continue
                    batch = [(m["offset"], m["message"]) for m in reply.json()["messages"]]
                    self.received += batch
                    if not batch:
                        if stop.is_set():
                            return
                        # Short polls, so that the only long poll is the parked one.
                        stop.wait(0.05)
        except BaseException as exc:  # reported by the test's thread
            self.errors.append(exc)

    def assert_read_at_most_once_then_the_rest(self, log: list[tuple[int, str]]) -> None:
        """Each message at most once and in order; every message of the log received,
        except at most one batch right after a consume that went unanswered."""
        assert not self.errors, self.errors
        offsets = [offset for offset, _ in self.received]
        assert offsets == sorted(set(offsets)), "a message was read twice or out of order"
        assert all(log[offset] == (offset, body) for offset, body in self.received)
        missing = sorted(set(range(len(log))) - set(offsets))
        expected_gaps = [last + 1 for last in self.unanswered_after]
        for offset in missing:
            starts = [start for start in expected_gaps if start <= offset < start + BATCH]
            assert starts, f"offset {offset} never received and no consume was in flight there"


@dataclass
class ParkedPoll:
    """A long poll on one server, to be answered by a produce through the other one."""

    url: str
    topic: str
    consumer_id: int
    answers: list[httpx.Response] = field(default_factory=list)
    _thread: threading.Thread | None = None

    def park(self, wait_ms: int = 30_000, skip: list[str] | None = None) -> None:
        """Park a poll; ``skip``: messages still unread, consumed first."""
        if skip:
            params = {"topic": self.topic, "consumer_id": self.consumer_id, "max_messages": 10}
            unread = httpx.get(self.url + "/consumer/consume", params=params, timeout=30)
            assert [m["message"] for m in unread.json()["messages"]] == skip
        params = {
            "topic": self.topic,
            "consumer_id": self.consumer_id,
            "wait_ms": wait_ms,
            "max_messages": 10,
        }

        def poll() -> None:
            with httpx.Client(base_url=self.url, timeout=wait_ms / 1000 + 30) as http:
                self.answers.append(http.get("/consumer/consume", params=params))

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        wait_until(lambda: long_poll_waiters(self.url) >= 1, what="the long poll to be parked")

    def answer(self, timeout: float) -> list[str]:
        """The messages the poll returned (none: it timed out); never an error or a hang."""
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the parked long poll did not return in time"
        reply = self.answers.pop()
        assert reply.status_code == 200, reply.text
        return [m["message"] for m in reply.json()["messages"]]


def request_statuses(servers: list[LiveServer]) -> list[tuple[str, int, float]]:
    """(route, status, latency ms) of every request the servers logged."""
    entries = (
        json.loads(line)
        for server in servers
        for line in server.log().splitlines()
        if line.startswith("{")
    )
    return [
        (str(entry["route"]), int(entry["status"]), float(entry["latency_ms"]))
        for entry in entries
        if entry.get("logger") == "logqueue.request"
    ]


def first_produce_after_kill(url: str, topic: str, producer_id: int, killed_at: float) -> float:
    """Seconds from the kill to the first produce LogQueue acknowledged."""
    with httpx.Client(base_url=url, timeout=30) as http:
        deadline = killed_at + DEADLINE
        while time.monotonic() < deadline:
            body = {"topic": topic, "producer_id": producer_id, "message": "probe"}
            reply = http.post("/producer/produce", json=body)
            if reply.status_code == 200:
                return time.monotonic() - killed_at
            assert reply.status_code == 503, reply.text
            time.sleep(0.05)  # a measurement's resolution, not a wait for a condition
    raise AssertionError("no produce was acknowledged after the failover")


def failover_under_load(
    cluster: HaCluster, url: str, servers: list[LiveServer], name: str
) -> float:
    """One run: load, kill the primary, load goes on; returns the measured failover time."""
    first, second = servers
    topic, parked_topic, probe_topic = name, f"{name}-parked", f"{name}-probe"
    with Client(first.url) as admin:
        for each in (topic, parked_topic, probe_topic):
            admin.create_topic(each)
    parked = ParkedPoll(second.url, parked_topic, register_consumer(second.url, parked_topic))
    probe = httpx.post(first.url + "/producer/register", json={"topic": probe_topic}, timeout=30)
    probe_id = int(probe.json()["producer_id"])
    readers = [
        Reader(server.url, topic, register_consumer(server.url, topic)) for server in servers
    ]
    stop_reading = threading.Event()
    reading = [threading.Thread(target=r.read, args=(stop_reading,), daemon=True) for r in readers]
    for thread in reading:
        thread.start()
    load = ProducerLoad([server.url for server in servers], topic, PRODUCERS, PER_PRODUCER)
    try:
        load.start()
        load.wait_for_acks(ACKS_BEFORE_KILL)
        old_leader = cluster.leader()
        parked.park()
        killed_at = time.monotonic()
        print(cluster.run("kill-primary").strip())
        failover_s = first_produce_after_kill(first.url, probe_topic, probe_id, killed_at)
        # The poll parked on the second process just before the kill returns: with this
        # message if its LISTEN connection found the new primary in time, else at its timeout.
        with Producer(first.url, [parked_topic], retries=PATIENT) as producer:
            assert producer.send(parked_topic, "after the failover")
        first_answer = parked.answer(timeout=40)
        assert first_answer in ([], ["after the failover"])
        print(f"{name}: failover {failover_s:.2f} s; parked poll answered {first_answer}")
        load.join()
    finally:
        stop_reading.set()
        for thread in reading:
            thread.join(timeout=DEADLINE)
    assert not any(thread.is_alive() for thread in reading), "a consumer never finished"
    new_leader = cluster.leader()
    assert new_leader not in (None, old_leader), f"{old_leader} is still the leader"

    # The next long poll works, woken across processes: produced through the first one.
    parked.park(skip=[] if first_answer else ["after the failover"])
    with Producer(first.url, [parked_topic], retries=PATIENT) as producer:
        assert producer.send(parked_topic, "and the next one")
    assert parked.answer(timeout=15)[-1] == "and the next one", "not woken by the produce"

    assert all(load.flushed), "a kept message was never delivered"
    log = stored_log(url, topic)
    assert_exactly_once_in_order(log, load)
    assert sorted(body for _, body in log) == sorted(load.sent()), "a message was lost"
    for reader in readers:
        reader.assert_read_at_most_once_then_the_rest(log)
    return failover_s


def test_two_failovers_under_load_lose_nothing(
    ha_cluster: tuple[HaCluster, str],
    servers: list[LiveServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    cluster, url = ha_cluster
    pids = [server.process.pid for server in servers]
    first_leader = cluster.leader()
    assert cluster.members() == {
        first_leader: "Leader",
        ({"node1", "node2"} - {first_leader}).pop(): "Sync Standby",
    }

    failover_s = failover_under_load(cluster, url, servers, "failover")
    # The old primary, rewound by Patroni, is back as the synchronous standby.
    wait_until(
        lambda: cluster.members().get(str(first_leader)) == "Sync Standby",
        timeout=DEADLINE,
        what="the old primary to rejoin as the synchronous standby",
    )
    back_s = failover_under_load(cluster, url, servers, "failback")
    assert cluster.leader() == first_leader

    statuses = request_statuses(servers)
    refused = [latency for _, status, latency in statuses if status == 503]
    with capsys.disabled():  # the figures belong in every run's output, passed or not
        print(
            f"\nfailover (kill -9 of the primary's postmaster -> first acknowledged produce): "
            f"{failover_s:.2f} s, back: {back_s:.2f} s; 503s seen: {len(refused)} "
            f"(slowest {max(refused, default=0):.0f} ms)"
        )
    assert [status for _, status, _ in statuses if status >= 500 and status != 503] == []
    assert refused, "no request was refused: the kill went unnoticed"
    assert max(refused) <= (CONNECT_TIMEOUT_S + 1) * 1000, "a 503 took longer than connecting"
    assert [server.process.pid for server in servers] == pids, "a server was restarted"
    assert all(server.process.poll() is None for server in servers), "a server died"
