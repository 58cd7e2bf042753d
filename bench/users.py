"""What users run: the SDK's producers and consumer, and the bare httpx loop they are set against.

Each load runs in this process, as a user's program would, and returns the messages it
confirmed; ``bench.measure.measured`` reads the time and the server's CPU around it. Loads
that run for a time count the messages confirmed within it; loads of a fixed count
(``produce()`` + ``flush()``, draining a topic) are timed to the last message.
"""

import asyncio
import threading
import time
from collections.abc import Callable

import httpx

from logqueue_sdk import AsyncProducer, Consumer, Producer


def bare_httpx_loop(url: str, topic: str, *, seconds: float, size: int) -> int:
    """Unsequenced single produces from one ``httpx.Client``: the SDK's floor."""
    with httpx.Client(base_url=url, timeout=30) as client:
        response = client.post("/producer/register", json={"topic": topic})
        response.raise_for_status()
        request = {"topic": topic, "producer_id": response.json()["producer_id"]}
        request["message"] = "x" * size
        sent, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            client.post("/producer/produce", json=request).raise_for_status()
            sent += 1
        return sent


def send_loops(url: str, topic: str, *, threads: int, seconds: float, size: int) -> int:
    """``threads`` threads, each with its own ``Producer``, calling ``send()`` in a loop."""
    producers = [Producer(url, [topic]) for _ in range(threads)]
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def loop(index: int) -> None:
        message = "x" * size
        while time.monotonic() < deadline:
            if not producers[index].send(topic, message):
                raise RuntimeError("send() returned False: the broker did not answer")
            counts[index] += 1

    try:
        _run_threads(loop, threads)
    finally:
        for producer in producers:
            producer.stop()
    return sum(counts)


def concurrent_async_sends(url: str, topic: str, *, tasks: int, seconds: float, size: int) -> int:
    """One ``AsyncProducer``, ``tasks`` tasks each awaiting ``send()`` in a loop."""

    async def run() -> int:
        message = "x" * size
        deadline = time.monotonic() + seconds
        async with AsyncProducer(url, [topic]) as producer:

            async def loop() -> int:
                sent = 0
                while time.monotonic() < deadline:
                    if not await producer.send(topic, message):
                        raise RuntimeError("send() returned False: the broker did not answer")
                    sent += 1
                return sent

            return sum(await asyncio.gather(*(loop() for _ in range(tasks))))

    return asyncio.run(run())


def produce_and_flush(url: str, topic: str, *, count: int, size: int) -> int:
    """``produce()`` ``count`` messages from one thread without waiting, then ``flush()``."""
    message = "x" * size
    with Producer(url, [topic]) as producer:
        futures = [producer.produce(topic, message) for _ in range(count)]
        if not producer.flush():
            raise RuntimeError("flush() returned False: the broker did not answer")
        if not all(future.result(timeout=0) for future in futures):
            raise RuntimeError("a produce() future answered False: the broker did not answer")
    return count


def send_batches(url: str, topic: str, *, batch: int, seconds: float, size: int) -> int:
    """``send_batch()`` of ``batch`` messages in a loop from one thread."""
    messages = ["x" * size] * batch
    sent, deadline = 0, time.monotonic() + seconds
    with Producer(url, [topic]) as producer:
        while time.monotonic() < deadline:
            if not producer.send_batch(topic, messages):
                raise RuntimeError("send_batch() returned False: the broker did not answer")
            sent += batch
    return sent


def drain(url: str, topic: str, *, count: int) -> int:
    """A new ``Consumer`` reads ``count`` messages of ``topic`` through ``get_next()``."""
    received = 0
    with Consumer(url, [topic]) as consumer:
        for _ in consumer.get_next():
            received += 1
            if received == count:
                break
    return received


def _run_threads(target: Callable[[int], None], count: int) -> None:
    """Start ``count`` threads on ``target(i)``, join them, and re-raise the first failure."""
    failures: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
