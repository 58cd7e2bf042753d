"""The console's rates with two server processes on one PostgreSQL: counted from the
database, so both processes report the same figures and together they add up to every
message produced through either."""

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, start_server
from tests.sdk.helpers import wait_until

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def sampling_servers(fresh_pg: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    first = start_server(fresh_pg, log_path=tmp_path / "first.log", LOGQUEUE_RATE_SAMPLE_S="1")
    try:
        second = start_server(
            fresh_pg, log_path=tmp_path / "second.log", LOGQUEUE_RATE_SAMPLE_S="1"
        )
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def rates(url: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/stats/topics/rated", timeout=10)
    assert response.status_code == 200, response.text
    points: list[dict[str, Any]] = response.json()["topic"]["rates"]
    return points


def produced_in(points: list[dict[str, Any]]) -> float:
    """Messages the rates account for: each rate times the time since the sample before."""
    stamps = [datetime.fromisoformat(p["at"]) for p in points]
    return sum(
        point["produce_per_s"] * (stamp - before).total_seconds()
        for point, before, stamp in zip(points[1:], stamps[:-1], stamps[1:], strict=True)
    )


def test_rates_add_up_across_two_processes(
    sampling_servers: tuple[LiveServer, LiveServer],
) -> None:
    servers = sampling_servers
    producers = []
    for server in servers:
        registered = httpx.post(f"{server.url}/producer/register", json={"topic": "rated"})
        producers.append(registered.json()["producer_id"])
    # Two samples before anything is produced: every message falls after the first one.
    wait_until(lambda: len(rates(servers[0].url)) >= 2, timeout=30, what="two samples")
    deadline = time.monotonic() + 3
    sent = 0
    while time.monotonic() < deadline:  # a few seconds of produces, through both processes
        for server, producer_id in zip(servers, producers, strict=True):
            batch = [f"m{sent + i}" for i in range(7)]
            answer = httpx.post(
                f"{server.url}/producer/produce",
                json={"topic": "rated", "producer_id": producer_id, "messages": batch},
            )
            assert answer.status_code == 200, answer.text
            sent += len(batch)
    wait_until(
        lambda: round(produced_in(rates(servers[0].url))) == sent,
        timeout=30,
        what=f"the rates to account for all {sent} messages",
    )
    # The other process reads the same samples: the same count, whichever one is asked.
    assert round(produced_in(rates(servers[1].url))) == sent
