"""End-to-end latency: a paced producer here, a long-polling consumer in its own process.

Each message carries the wall-clock time it was sent; the consumer subtracts it from the
time it received the message. Both processes read the same system clock.

Run as ``python -m bench.e2e URL TOPIC CONSUMER_ID COUNT SECONDS`` it is the consumer: it
prints ``ready`` once it is polling and, at the end, one JSON line of latencies.
"""

import asyncio
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from bench.http import Connection
from bench.server import PROJECT_ROOT

WAIT_MS = 1000
MAX_MESSAGES = 1000
MESSAGE_BYTES = 100
PRODUCER_CONNECTIONS = 64


@dataclass(frozen=True)
class E2EResult:
    sent: int
    received: int
    send_rate: float
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: always one of the measured values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def measure(
    url: str, topic: str, producer_id: int, consumer_id: int, *, rate: float, seconds: float
) -> E2EResult:
    """Produce ``rate`` messages a second for ``seconds`` while the consumer process reads."""
    count = round(rate * seconds)
    consumer = subprocess.Popen(
        [sys.executable, "-m", "bench.e2e", url, topic, str(consumer_id), str(count), str(seconds)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert consumer.stdout is not None
    if consumer.stdout.readline().strip() != "ready":
        consumer.kill()
        raise RuntimeError("the e2e consumer did not start")
    send_rate = asyncio.run(_produce_paced(url, topic, producer_id, count=count, rate=rate))
    output, _ = consumer.communicate(timeout=seconds + 60)
    latencies: list[float] = json.loads(output)["latencies_ms"]
    return E2EResult(
        sent=count,
        received=len(latencies),
        send_rate=send_rate,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
    )


async def _produce_paced(
    url: str, topic: str, producer_id: int, *, count: int, rate: float
) -> float:
    """Send message i at ``start + i / rate`` from a fixed set of connections.

    A fixed schedule (not "send after each answer") keeps the rate while a reply is slow.
    """
    padding = "x" * MESSAGE_BYTES
    schedule = iter(range(count))
    started = time.monotonic()

    async def worker() -> None:
        connection = await Connection.open(url)
        try:
            for i in schedule:
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = f"{time.time_ns()} {padding}"[:MESSAGE_BYTES]
                request = {"topic": topic, "producer_id": producer_id, "message": body}
                await connection.post_json("/producer/produce", json.dumps(request).encode())
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(PRODUCER_CONNECTIONS)))
    return count / (time.monotonic() - started)


async def _consume(
    url: str, topic: str, consumer_id: int, count: int, seconds: float
) -> list[float]:
    """Long-poll until ``count`` messages arrived or the producer must have long finished."""
    query = f"/consumer/consume?{urlencode({'topic': topic, 'consumer_id': consumer_id})}"
    query += f"&max_messages={MAX_MESSAGES}"
    latencies: list[float] = []
    connection = await Connection.open(url)
    try:
        await connection.get(query + "&wait_ms=0")
        print("ready", flush=True)
        deadline = time.monotonic() + seconds + 30
        while len(latencies) < count and time.monotonic() < deadline:
            body = await connection.get(query + f"&wait_ms={WAIT_MS}")
            received = time.time_ns()
            for message in json.loads(body)["messages"]:
                sent = int(message["message"].split(" ", 1)[0])
                latencies.append((received - sent) / 1e6)
    finally:
        await connection.close()
    return latencies


def main() -> None:
    url, topic, consumer_id, count, seconds = sys.argv[1:6]
    latencies = asyncio.run(_consume(url, topic, int(consumer_id), int(count), float(seconds)))
    print(json.dumps({"latencies_ms": latencies}))


if __name__ == "__main__":
    main()
