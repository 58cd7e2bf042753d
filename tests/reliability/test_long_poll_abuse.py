"""Long polls a careless client can abuse: one that leaves, many on one consumer id, and
polls on a topic that is deleted under them."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from app.database import open_pools
from app.domain import StoredMessage
from app.errors import TooManyWaiters
from app.service import QueueService
from app.settings import Settings
from app.storage import create_repository
from tests.live_server import LiveServer
from tests.reliability.load import long_poll_waiters
from tests.sdk.helpers import wait_until
from tests.service.helpers import ADMIN

LONG = 30_000  # ms: far longer than any test here waits


@pytest.fixture
async def service(empty_db: Settings) -> AsyncIterator[QueueService]:
    pools = await open_pools(empty_db)
    yield QueueService.from_settings(
        create_repository(pools), empty_db.model_copy(update={"max_waiters_per_consumer": 3})
    )
    await pools.close()


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.001)


@pytest.mark.postgres_only
def test_a_long_poll_whose_client_left_takes_no_message(live_server: LiveServer) -> None:
    url = live_server.url
    with httpx.Client(base_url=url, timeout=30) as http:
        producer_id = http.post("/producer/register", json={"topic": "left"}).json()["producer_id"]
        consumer_id = http.post("/consumer/register", json={"topic": "left"}).json()["consumer_id"]
        poll = {"topic": "left", "consumer_id": consumer_id, "wait_ms": LONG}
        with pytest.raises(httpx.ReadTimeout):  # a client whose timeout is shorter than wait_ms
            httpx.get(url + "/consumer/consume", params=poll, timeout=1)
        # The server notices at once that the client is gone, and frees its waiter slot.
        wait_until(lambda: long_poll_waiters(url) == 0, timeout=10, what="the poll to end")
        http.post(
            "/producer/produce", json={"topic": "left", "producer_id": producer_id, "message": "m"}
        ).raise_for_status()
        answer = http.get("/consumer/consume", params={**poll, "wait_ms": 5000}).json()
    assert answer.get("message") == "m", answer


@pytest.mark.postgres_only
def test_deleting_a_topic_answers_its_long_polls_404(live_server: LiveServer) -> None:
    url = live_server.url
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/producer/register", json={"topic": "doomed"}).raise_for_status()
        consumer_id = http.post("/consumer/register", json={"topic": "doomed"}).json()[
            "consumer_id"
        ]
        params = {"topic": "doomed", "consumer_id": consumer_id, "wait_ms": LONG}

        async def scenario() -> httpx.Response:
            parked = long_poll_waiters(url)  # other tests' polls may still be parked
            # The client gives up after 10 s, far below wait_ms.
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                answer = asyncio.create_task(client.get("/consumer/consume", params=params))
                await until(lambda: long_poll_waiters(url) == parked + 1)
                http.delete("/topics/doomed").raise_for_status()
                return await answer

        response = asyncio.run(scenario())
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "topic_not_found"


async def test_a_produce_wakes_one_long_poll_per_consumer(service: QueueService) -> None:
    """Parked polls on one consumer id: a produce makes one of them read, not all."""
    producer_id = await service.register_producer("t", caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    reads = count_reads(service)
    polls = [
        asyncio.create_task(service.consume("t", consumer_id, 1, wait_ms=LONG, caller=ADMIN))
        for _ in range(3)
    ]
    await until(lambda: service.wakeups.waiting == 3)
    before = reads()
    await service.produce("t", producer_id, ["one"], caller=ADMIN)
    await until(lambda: any(p.done() for p in polls) and service.wakeups.waiting == 2)
    # The answered poll read the message; the next in turn read once and parked again.
    assert reads() - before <= 2
    [answered] = [p for p in polls if p.done()]
    assert [m.body for m in answered.result()] == ["one"]
    service.begin_shutdown()
    async with asyncio.timeout(10):
        assert [await p for p in polls if p is not answered] == [[], []]


async def test_long_polls_per_consumer_are_capped(service: QueueService) -> None:
    await service.register_producer("t", caller=ADMIN)
    consumer_id = await service.register_consumer("t", caller=ADMIN)
    other = await service.register_consumer("t", caller=ADMIN)
    polls = [
        asyncio.create_task(service.consume("t", consumer_id, 1, wait_ms=LONG, caller=ADMIN))
        for _ in range(3)
    ]
    await until(lambda: service.wakeups.waiting == 3)
    async with asyncio.timeout(5):
        with pytest.raises(TooManyWaiters):
            await service.consume("t", consumer_id, 1, wait_ms=LONG, caller=ADMIN)
    # Another consumer id has its own allowance.
    beside = asyncio.create_task(service.consume("t", other, 1, wait_ms=LONG, caller=ADMIN))
    await until(lambda: service.wakeups.waiting == 4)
    service.begin_shutdown()
    async with asyncio.timeout(10):
        assert await asyncio.gather(*polls, beside) == [[]] * 4


def count_reads(service: QueueService) -> Callable[[], int]:
    """Counts the service's consumer reads (the real repository does the work)."""
    repository = service._repo
    real: Callable[[int, int, int, int], Awaitable[list[StoredMessage]]] = repository.read_next
    count = 0

    async def read_next(
        topic_id: int, consumer_id: int, max_messages: int, max_bytes: int
    ) -> list[StoredMessage]:
        nonlocal count
        count += 1
        return await real(topic_id, consumer_id, max_messages, max_bytes)

    repository.read_next = read_next  # type: ignore[method-assign]
    return lambda: count
