"""NATS JetStream: ``nats-server -js`` with a file-stored stream, driven by nats-py."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StorageType

from bench.anchors.daemon import installed, running
from bench.anchors.figure import AnchorFigure, Counterpart
from bench.measure import Run, measured_async
from bench.server import free_port

ANCHOR = "NATS JetStream"
# nats-server fsyncs its file store on a timer (sync_interval, 2 minutes by default), not
# before it acknowledges: an acked message survives a killed server process, not power loss.
DURABILITY = "file store, acked before fsync (every 2 min): weaker than LogQueue's commit"
STREAM = "BENCH"
SUBJECT = "bench"


def measure(
    scratch: Path, *, seconds: float, count: int, batch: int, size: int
) -> list[AnchorFigure]:
    """Raises ``Missing`` without ``nats-server``."""
    binary = installed("nats-server")
    port = free_port()
    command = [binary, "-js", "-sd", str(scratch / "jetstream"), "-a", "127.0.0.1"]
    command += ["-p", str(port)]
    with running(command, port, scratch / "nats-server.log") as daemon:
        url = f"nats://127.0.0.1:{port}"
        runs = asyncio.run(
            _loads(url, daemon.cpu_seconds, seconds=seconds, count=count, batch=batch, size=size)
        )
    return [
        AnchorFigure(ANCHOR, load, counterpart, DURABILITY, run)
        for (load, counterpart), run in runs.items()
    ]


async def _loads(
    url: str, cpu: Callable[[], float], *, seconds: float, count: int, batch: int, size: int
) -> dict[tuple[str, Counterpart], Run]:
    connection = await nats.connect(url)
    try:
        stream = connection.jetstream()
        await stream.add_stream(name=STREAM, subjects=[SUBJECT], storage=StorageType.FILE)
        payload = b"x" * size
        one = await measured_async(cpu, _publish_one_at_a_time(stream, payload, seconds))
        many = await measured_async(cpu, _publish_async(stream, payload, count))
        read = await measured_async(cpu, _pull_consume(stream, count, batch))
    finally:
        await connection.close()
    return {
        ("publish, wait for the ack, one at a time", "send_loop"): one,
        (f"async publish of {count:,}, then wait for every ack", "produce_flush"): many,
        (f"pull-consume {batch:,} at a time, ack each batch", "drain"): read,
    }


async def _publish_one_at_a_time(stream: JetStreamContext, payload: bytes, seconds: float) -> int:
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        await stream.publish(SUBJECT, payload)
        sent += 1
    return sent


async def _publish_async(stream: JetStreamContext, payload: bytes, count: int) -> int:
    """Publish without waiting (the client bounds what is unacknowledged), then wait for all."""
    acks = [await stream.publish_async(SUBJECT, payload) for _ in range(count)]
    await stream.publish_async_completed()
    for ack in acks:
        ack.result()  # raises if the server refused one
    return count


async def _pull_consume(stream: JetStreamContext, count: int, batch: int) -> int:
    """A durable pull consumer; acking a batch's last message acks the batch (AckPolicy.ALL)."""
    config = ConsumerConfig(ack_policy=AckPolicy.ALL, max_ack_pending=-1)
    subscription = await stream.pull_subscribe(SUBJECT, durable="bench", config=config)
    received = 0
    while received < count:
        messages = await subscription.fetch(min(batch, count - received), timeout=10)
        await messages[-1].ack_sync()
        received += len(messages)
    return received
