"""Consumer-group throughput: member processes fetching whole leases through the SDK and
acking each one, as a pool of workers would (beside plain batch consume in the same run)."""

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from bench.measure import Run, measured
from logqueue_sdk import GroupConsumer

GROUP = "bench-group"


def members_drain(
    url: str,
    topic: str,
    server_cpu: Callable[[], float],
    *,
    members: int,
    batch: int,
    seconds: float,
) -> Run:
    """``members`` processes lease ``batch`` messages at a time from a new group on
    ``topic`` for ``seconds``; the run counts the messages acked. The processes are started
    before the clock, as a worker pool would be."""
    with GroupConsumer(url, topic, GROUP) as admin:
        admin.create(start="earliest")
    with ProcessPoolExecutor(members) as pool:
        pool.submit(int).result()  # the workers exist from here on

        def load() -> int:
            deadline = time.time() + seconds
            jobs = [pool.submit(_member, url, topic, batch, deadline) for _ in range(members)]
            return sum(job.result() for job in jobs)

        return measured(server_cpu, load)


def _member(url: str, topic: str, batch: int, deadline: float) -> int:
    acked = 0
    member = f"bench-{os.getpid()}"
    with GroupConsumer(url, topic, GROUP, member=member, max_messages=batch, wait=0) as consumer:
        while time.time() < deadline:
            lease = consumer.fetch()
            if lease is None:
                break
            acked += lease.ack()
    return acked
