"""Many threads (or tasks) on one pipelining producer, and a full queue: what only one
flavour can express, so written for each."""

import asyncio
import threading
from collections.abc import Callable

from logqueue_sdk import AsyncProducer, Consumer, Producer, RetryPolicy
from tests.sdk.helpers import wait_until
from tests.sdk.lossy_proxy import LossyProxy

PATIENT = RetryPolicy(retries=20, backoff=0.05, max_backoff=0.2)
WORKERS = 8
EACH = 40
DEADLINE = 60.0


async def _until(condition: Callable[[], bool]) -> None:
    """Let other tasks run until ``condition`` holds; fail (not hang) at the deadline."""
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _stored(broker: str, topic: str) -> list[str]:
    with Consumer(broker, [topic]) as consumer:
        messages = iter(lambda: consumer.dequeue(topic), None)
        return [message.body for message in messages]


def _check_each_workers_order(stored: list[str]) -> None:
    """Every message stored once, and each worker's in the order it sent them."""
    assert sorted(stored) == sorted(f"{w} {i}" for w in range(WORKERS) for i in range(EACH))
    for worker in range(WORKERS):
        mine = [int(body.split()[1]) for body in stored if body.split()[0] == str(worker)]
        assert mine == list(range(EACH)), f"worker {worker} out of order"


def test_many_threads_send_on_one_producer(broker: str, topic: str) -> None:
    """Concurrent send()s are coalesced (fewer requests than messages), stored once in each
    thread's order, also when answers are lost and batches are retried."""
    results: list[bool] = []
    with (
        LossyProxy(broker, lose=2) as proxy,
        Producer(proxy.url, [topic], timeout=1.0, retries=PATIENT) as producer,
    ):

        def sends(worker: int) -> None:
            results.extend(producer.send(topic, f"{worker} {i}") for i in range(EACH))

        threads = [threading.Thread(target=sends, args=(w,)) for w in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DEADLINE)
        assert not any(thread.is_alive() for thread in threads)
        requests = len(proxy.produces)
    assert results == [True] * WORKERS * EACH
    assert len(proxy.lost) == 2
    assert requests < WORKERS * EACH, "sends from many threads share requests"
    _check_each_workers_order(_stored(broker, topic))


async def test_many_tasks_send_on_one_async_producer(broker: str, topic: str) -> None:
    with LossyProxy(broker, lose=2) as proxy:
        async with AsyncProducer(proxy.url, [topic], timeout=1.0, retries=PATIENT) as producer:

            async def sends(worker: int) -> list[bool]:
                return [await producer.send(topic, f"{worker} {i}") for i in range(EACH)]

            results = await asyncio.gather(*(sends(w) for w in range(WORKERS)))
        requests = len(proxy.produces)
    assert results == [[True] * EACH] * WORKERS
    assert requests < WORKERS * EACH, "sends from many tasks share requests"
    _check_each_workers_order(_stored(broker, topic))


def test_produce_blocks_while_max_queued_messages_wait(broker: str, topic: str) -> None:
    """The answer to the first batch is lost, so its three messages stay queued until the
    retry: a fourth produce() waits for room meanwhile, then goes through."""
    with (
        LossyProxy(broker, lose=1) as proxy,
        Producer(proxy.url, [topic], timeout=5.0, retries=PATIENT, max_queued=3) as producer,
    ):
        first = [producer.produce(topic, f"m{i}") for i in range(3)]
        wait_until(lambda: len(proxy.lost) == 1, what="the first batch to be stored, unanswered")
        fourth = []
        blocked = threading.Thread(target=lambda: fourth.append(producer.produce(topic, "m3")))
        blocked.start()
        wait_until(lambda: producer._rounds_asked > 0, what="produce() to wait for room")
        assert fourth == [] and producer._outbox.queued == 3
        blocked.join(timeout=DEADLINE)
        assert producer.flush() is True
    assert [future.result() for future in [*first, *fourth]] == [True] * 4
    assert _stored(broker, topic) == ["m0", "m1", "m2", "m3"]


async def test_async_produce_waits_while_max_queued_messages_wait(broker: str, topic: str) -> None:
    with LossyProxy(broker, lose=1) as proxy:
        async with AsyncProducer(
            proxy.url, [topic], timeout=5.0, retries=PATIENT, max_queued=3
        ) as producer:
            first = [await producer.produce(topic, f"m{i}") for i in range(3)]
            fourth = asyncio.create_task(producer.produce(topic, "m3"))
            await _until(lambda: producer._rounds_asked > 0)  # the task waits for room
            assert not fourth.done() and producer._outbox.queued == 3
            last = await asyncio.wait_for(fourth, DEADLINE)
            assert await producer.flush() is True
    assert [future.result() for future in [*first, last]] == [True] * 4
    assert _stored(broker, topic) == ["m0", "m1", "m2", "m3"]
