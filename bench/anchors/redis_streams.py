"""Redis Streams: ``redis-server`` with the append-only file on, driven by redis-py.

Measured twice: ``appendfsync always`` (the AOF is fsynced before a reply leaves, as
LogQueue commits before it answers) and ``everysec`` (Redis's default: a second at risk).
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import redis
from redis.typing import EncodableT, FieldT

from bench.anchors.daemon import installed, running
from bench.anchors.figure import AnchorFigure, Counterpart
from bench.measure import Run, measured
from bench.server import free_port

# What XADD takes (redis-py declares a dict of its own key and value types, not a Mapping).
Fields = dict[FieldT, EncodableT]

ANCHOR = "Redis Streams"
DURABILITY = {
    "always": "appendfsync always, fsync before the reply: the same promise as LogQueue",
    "everysec": "appendfsync everysec, reply before fsync: up to 1 s lost on power loss",
}
STREAM = "bench"
GROUP = "bench"


def measure(
    scratch: Path, *, seconds: float, count: int, batch: int, size: int
) -> list[AnchorFigure]:
    """Both fsync settings, each on a fresh server; raises ``Missing`` without redis-server."""
    binary = installed("redis-server")
    figures = []
    for fsync, durability in DURABILITY.items():
        runs = _measure_one(binary, scratch / f"redis-{fsync}", fsync, seconds, count, batch, size)
        name = f"{ANCHOR} ({fsync})"
        figures += [
            AnchorFigure(name, load, counterpart, durability, run)
            for (load, counterpart), run in runs.items()
        ]
    return figures


def _measure_one(
    binary: str, data: Path, fsync: str, seconds: float, count: int, batch: int, size: int
) -> dict[tuple[str, Counterpart], Run]:
    data.mkdir(parents=True)
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data)]
    command += ["--appendonly", "yes", "--appendfsync", fsync, "--save", ""]
    with running(command, port, data / "redis-server.log") as daemon:
        client = redis.Redis(port=port)
        try:
            payload: Fields = {"message": b"x" * size}
            cpu: Callable[[], float] = daemon.cpu_seconds
            one = measured(cpu, lambda: _add_one_at_a_time(client, payload, seconds))
            piped = measured(cpu, lambda: _add_pipelined(client, payload, batch, seconds))
            _top_up(client, payload, count, batch)
            client.xgroup_create(STREAM, GROUP, id="0")
            read = measured(cpu, lambda: _read_group(client, count, batch))
        finally:
            client.close()
    return {
        ("XADD one at a time", "send_loop"): one,
        (f"pipelined XADD of {batch:,}", "send_batch"): piped,
        (f"XREADGROUP of {batch:,} + XACK", "drain"): read,
    }


def _add_one_at_a_time(client: redis.Redis, payload: Fields, seconds: float) -> int:
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.xadd(STREAM, payload)
        sent += 1
    return sent


def _add_pipelined(client: redis.Redis, payload: Fields, batch: int, seconds: float) -> int:
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        pipeline = client.pipeline(transaction=False)
        for _ in range(batch):
            pipeline.xadd(STREAM, payload)
        pipeline.execute()
        sent += batch
    return sent


def _top_up(client: redis.Redis, payload: Fields, count: int, batch: int) -> None:
    """Untimed: make sure the stream holds ``count`` entries to read, however few the timed
    writes managed on a slow disk."""
    while (missing := count - client.xlen(STREAM)) > 0:
        pipeline = client.pipeline(transaction=False)
        for _ in range(min(missing, batch)):
            pipeline.xadd(STREAM, payload)
        pipeline.execute()


def _read_group(client: redis.Redis, count: int, batch: int) -> int:
    """Read ``count`` entries as one group member, acking each batch with one XACK."""
    received = 0
    while received < count:
        answer = client.xreadgroup(
            GROUP, "reader", {STREAM: ">"}, count=min(batch, count - received), block=10_000
        )
        [(_, entries)] = cast(list[tuple[bytes, list[tuple[bytes, object]]]], answer)
        client.xack(STREAM, GROUP, *(entry_id for entry_id, _ in entries))
        received += len(entries)
    return received
