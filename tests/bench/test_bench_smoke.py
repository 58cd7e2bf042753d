"""The benchmark still runs end to end against the current API (``python -m bench --quick``).

It asserts that every figure was measured and nothing failed, never how fast anything was:
the wrk rows with one and two workers, the SDK loads, and each anchor whose server binary is
installed (CI installs them; elsewhere a missing one must be reported as skipped).
"""

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import drop_pg_database

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_database(postgres_database_url: str) -> Iterator[str]:
    """Named after this session's test database, so concurrent suites never collide;
    the bench creates it (scripts/dev-postgres.sh) and the test drops it."""
    if shutil.which("wrk") is None and os.geteuid() != 0:
        pytest.skip("wrk is not installed and only root can apt-get install it")
    url = make_url(postgres_database_url)
    url = url.set(database=f"{url.database}_bench")
    try:
        yield str(url.database)
    finally:
        asyncio.run(drop_pg_database(url))


def test_quick_bench_measures_every_figure(bench_database: str, tmp_path: Path) -> None:
    if os.environ.get("CI"):  # .ci/run installs both: there an anchor may never be skipped
        assert shutil.which("nats-server") and shutil.which("redis-server")
    markdown = tmp_path / "table.md"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--duration=1",
            f"--database={bench_database}",
            f"--markdown={markdown}",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    rows = [line for line in markdown.read_text().splitlines() if line.startswith("| ")][1:]
    figures = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    for expected in EXPECTED_FIGURES + _anchor_figures():
        assert any(f.startswith(expected) for f in figures), (expected, figures)
    for row in rows:
        if "skipped: " in row:
            continue  # an anchor without its binary; _anchor_figures checked which
        for failure in ("n/a", "not measured", "non-2xx", "socket errors", "received"):
            assert failure not in row, row


EXPECTED_FIGURES = [
    "HTTP ceiling: POST produce",
    "DB ceiling: single-row INSERT",
    "single produce, 64 clients: msgs/s",
    "single produce, 64 clients: server CPU per msg",
    "single consume, 64 consumers: p99",
    "batch produce",
    "batch consume",
    "group: 4 wrk members, 1,000-message leases, fetch + ack: server CPU per msg",
    "end-to-end at 1,000 msgs/s, long poll: p50",
    "server RSS growth",
    "bare httpx loop, unsequenced single produces, one thread: server CPU per msg",
    "SDK Producer.send() loop, one thread: server CPU per msg",
    "SDK send() loops, 8 threads (a Producer each), one topic",
    "async SDK, 64 concurrent send()s on one AsyncProducer",
    "SDK produce() + flush() of 10,000, one thread",
    "SDK send_batch() of 1,000, one thread",
    "SDK Consumer.get_next() draining 10,000",
    "SDK GroupConsumer, 4 member processes",
    "HTTP ceiling, 2 workers: POST produce",
    "single produce, 2 workers, 64 clients: msgs/s",
    "single consume, 2 workers, 64 consumers: server CPU per msg",
    "batch produce 1,000 x 100 B, 2 workers",
    "batch consume max_messages=1,000, 2 workers",
]


def _anchor_figures() -> list[str]:
    """Every load of each anchor whose binary is here, else the anchor's skip row."""
    nats = ["publish, wait for the ack", "async publish of 10,000", "pull-consume 1,000"]
    redis = ["XADD one at a time", "pipelined XADD of 1,000", "XREADGROUP of 1,000 + XACK"]
    expected = []
    if shutil.which("nats-server"):
        expected += [f"NATS JetStream: {load}" for load in nats]
    else:
        expected.append("NATS JetStream")
    for fsync in ("always", "everysec"):
        if shutil.which("redis-server"):
            expected += [f"Redis Streams ({fsync}): {load}" for load in redis]
    if not shutil.which("redis-server"):
        expected.append("Redis Streams")
    return expected
