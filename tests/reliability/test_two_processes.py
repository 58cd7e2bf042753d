"""Two server processes on one PostgreSQL: offsets contiguous, nothing lost or duplicated,
and long polls on one process woken by produces on the other."""

import asyncio

import httpx
import pytest

from tests.live_server import LiveServer
from tests.reliability.load import long_poll_waiters

pytestmark = pytest.mark.postgres_only

PRODUCERS = 6
PER_PRODUCER = 150


async def register(http: httpx.AsyncClient, role: str, topic: str) -> int:
    response = await http.post(f"/{role}/register", json={"topic": topic})
    return int(response.json()[f"{role}_id"])


async def test_producers_and_consumers_spread_over_two_processes(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    urls = [server.url for server in two_servers]
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in urls]
    try:
        await clients[0].post("/topics", json={"topic_name": "shared"})
        consumer_ids = [await register(clients[i % 2], "consumer", "shared") for i in range(4)]

        async def produce(n: int) -> list[int]:
            http = clients[n % 2]
            producer_id = await register(http, "producer", "shared")
            offsets = []
            for i in range(PER_PRODUCER):
                body = {"topic": "shared", "producer_id": producer_id, "message": f"{n}:{i}"}
                if i % 10 == 0:  # some batches too
                    body = {**body, "messages": [f"{n}:{i}"]}
                    del body["message"]
                response = await http.post("/producer/produce", json=body)
                result = response.json()
                offsets.append(result["offset"] if "offset" in result else result["offsets"][0])
            return offsets

        async def consume(index: int) -> list[tuple[int, str]]:
            """Long-poll on the process the consumer did NOT register on, half the time."""
            http = clients[(index + 1) % 2]
            received: list[tuple[int, str]] = []
            total = PRODUCERS * PER_PRODUCER
            while len(received) < total:
                response = await http.get(
                    "/consumer/consume",
                    params={
                        "topic": "shared",
                        "consumer_id": consumer_ids[index],
                        "max_messages": 100,
                        "wait_ms": 10_000,
                    },
                )
                batch = response.json()["messages"]
                assert batch, "a long poll timed out while messages were still coming"
                received.extend((m["offset"], m["message"]) for m in batch)
            return received

        produced, consumed = await asyncio.gather(
            asyncio.gather(*(produce(n) for n in range(PRODUCERS))),
            asyncio.gather(*(consume(i) for i in range(len(consumer_ids)))),
        )
    finally:
        for http in clients:
            await http.aclose()

    total = PRODUCERS * PER_PRODUCER
    assert sorted(o for offsets in produced for o in offsets) == list(range(total))
    for offsets in produced:
        assert offsets == sorted(offsets)
    log = consumed[0]
    assert [offset for offset, _ in log] == list(range(total))
    assert sorted(body for _, body in log) == sorted(
        f"{n}:{i}" for n in range(PRODUCERS) for i in range(PER_PRODUCER)
    )
    for other in consumed[1:]:
        assert other == log


async def test_long_poll_on_one_process_woken_by_the_other(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    waiter_side, producer_side = two_servers
    async with (
        httpx.AsyncClient(base_url=waiter_side.url, timeout=30) as waiter,
        httpx.AsyncClient(base_url=producer_side.url, timeout=30) as producer,
    ):
        producer_id = await register(producer, "producer", "wake")
        consumer_id = await register(waiter, "consumer", "wake")
        poll = asyncio.create_task(
            waiter.get(
                "/consumer/consume",
                params={"topic": "wake", "consumer_id": consumer_id, "wait_ms": 25_000},
            )
        )
        async with asyncio.timeout(10):
            while await asyncio.to_thread(long_poll_waiters, waiter_side.url) < 1:  # parked
                await asyncio.sleep(0.01)
            await producer.post(
                "/producer/produce",
                json={"topic": "wake", "producer_id": producer_id, "message": "ping"},
            )
            # Only a LISTEN/NOTIFY wake-up answers before the poll's own 25 s.
            await poll
        assert poll.result().json()["message"] == "ping"
