"""Group members in separate processes, through the SDK: four of them drain a topic, and
one killed with ``kill -9`` in the middle of a lease loses nothing."""

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from logqueue_sdk import GroupConsumer, Producer
from tests.live_server import LiveServer

pytestmark = pytest.mark.postgres_only

MESSAGES = 20_000
MEMBERS = 4
DEADLINE = 240


def fill(url: str, topic: str, count: int, **group: object) -> None:
    with Producer(url) as producer:
        for first in range(0, count, 1000):
            assert producer.send_batch(
                topic, [f"m{i}" for i in range(first, first + 1000)][: count - first]
            )
    reply = httpx.put(f"{url}/topics/{topic}/groups/g", json=group, timeout=30)
    assert reply.status_code == 200, reply.text


def worker(mode: str, url: str, topic: str, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.group_worker", mode, url, topic, "g", str(out)],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_four_member_processes_drain_twenty_thousand(
    live_server: LiveServer, tmp_path: Path
) -> None:
    fill(live_server.url, "drain", MESSAGES)
    outs = [tmp_path / f"member-{n}.log" for n in range(MEMBERS)]
    members = [worker("drain", live_server.url, "drain", out) for out in outs]
    try:
        assert [m.wait(timeout=DEADLINE) for m in members] == [0] * MEMBERS
    finally:
        for m in members:
            m.kill()
            m.wait()
    lines = [line.split() for out in outs for line in out.read_text().splitlines()]
    delivered = Counter(int(offset) for offset, _, _ in lines)
    # Every offset delivered exactly once: never out on two leases (live or not) at once.
    assert sorted(delivered) == list(range(MESSAGES))
    assert set(delivered.values()) == {1}
    assert {delivery for _, delivery, _ in lines} == {"1"}
    # The members shared the work. Not every one is sure to get some: on a loaded machine a
    # member that starts late can find the topic already drained (seen once in CI).
    assert sum(1 for out in outs if out.read_text()) >= 2, "one member did all the work"
    details = httpx.get(f"{live_server.url}/topics/drain/groups/g", timeout=30).json()["group"]
    assert (details["acked"], details["redelivered"], details["lag"]) == (MESSAGES, 0, 0)


def test_member_killed_holding_a_lease_loses_nothing(
    live_server: LiveServer, tmp_path: Path
) -> None:
    fill(live_server.url, "killed", 100, ack_wait_ms=1000)
    out = tmp_path / "doomed.log"
    doomed = worker("die-after-first", live_server.url, "killed", out)
    try:
        assert doomed.wait(timeout=60) == -signal.SIGKILL
    finally:
        doomed.kill()
        doomed.wait()
    assert out.read_text().split() == ["0", "1"]  # it processed offset 0, then died

    again: list[tuple[int, int]] = []
    with GroupConsumer(live_server.url, "killed", "g", max_messages=100, wait=10) as survivor:
        while len(again) < 100:
            lease = survivor.fetch()  # long poll: woken when the dead member's lease expires
            assert lease is not None, "the dead member's messages never came back"
            again.extend((m.offset, m.delivery) for m in lease.messages)
            lease.ack()
        details = survivor.details()
    assert again == [(offset, 2) for offset in range(100)]
    assert (details.acked, details.redelivered, details.lag) == (100, 100, 0)
