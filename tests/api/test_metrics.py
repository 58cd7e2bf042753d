"""/metrics after known traffic: every number is the one the traffic implies."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from app.database import open_pools
from app.domain import LagReport
from app.main import create_app
from app.metrics import Metrics
from app.settings import Settings
from tests.api.helpers import consume, produce, register_consumer, register_producer

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_counts_produce_consume_requests_and_lag(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "orders")
    reader = await register_consumer(client, "orders")
    idle = await register_consumer(client, "orders")
    for i in range(5):
        await produce(client, "orders", producer_id, f"m{i}")
    for _ in range(2):
        await consume(client, "orders", reader)
    await client.get("/topics/orders")
    await client.get("/no/such/route")

    samples = await scrape(client)
    assert value(samples, "logqueue_messages_produced_total", topic="orders") == 5
    assert value(samples, "logqueue_messages_consumed_total", topic="orders") == 2
    # Sequential produces commit one message per transaction.
    assert value(samples, "logqueue_group_commit_batch_messages_count") == 5
    assert value(samples, "logqueue_group_commit_batch_messages_sum") == 5
    assert value(samples, "logqueue_group_commit_batch_messages_bucket", le="1.0") == 5
    # Latency is per route template, never per raw path.
    assert (
        value(
            samples,
            "logqueue_request_duration_seconds_count",
            method="POST",
            route="/producer/produce",
        )
        == 5
    )
    assert (
        value(
            samples, "logqueue_request_duration_seconds_count", method="GET", route="/topics/{name}"
        )
        == 1
    )
    assert (
        value(samples, "logqueue_requests_total", method="GET", route="<unmatched>", status="404")
        == 1
    )
    assert not [k for k in samples if ("route", "/topics/orders") in k[1]]
    assert value(samples, "logqueue_consumer_lag", topic="orders", consumer_id=str(reader)) == 3
    assert value(samples, "logqueue_consumer_lag", topic="orders", consumer_id=str(idle)) == 5
    assert value(samples, "logqueue_consumers") == 2
    assert value(samples, "logqueue_long_poll_waiters") == 0
    assert value(samples, "logqueue_db_pool_checked_out") == 0


async def test_concurrent_produces_show_as_group_commit_batches(
    client: httpx.AsyncClient,
) -> None:
    producer_id = await register_producer(client, "burst")
    await asyncio.gather(*(produce(client, "burst", producer_id, f"m{i}") for i in range(20)))
    samples = await scrape(client)
    assert value(samples, "logqueue_messages_produced_total", topic="burst") == 20
    assert value(samples, "logqueue_group_commit_batch_messages_sum") == 20
    transactions = value(samples, "logqueue_group_commit_batch_messages_count")
    assert 1 <= transactions <= 20


async def test_deleted_topic_leaves_no_series(client: httpx.AsyncClient) -> None:
    producer_id = await register_producer(client, "gone")
    await produce(client, "gone", producer_id, "m")
    assert (await client.delete("/topics/gone")).status_code == 200
    samples = await scrape(client)
    assert not [k for k in samples if ("topic", "gone") in k[1]]


@pytest.fixture
async def capped_app(empty_db: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(empty_db.model_copy(update={"metrics_max_lag_series": 2}))
    async with app.router.lifespan_context(app):
        yield app


async def test_lag_series_are_capped_to_the_largest(capped_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=capped_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        producer_id = await register_producer(client, "t")
        consumers = [await register_consumer(client, "t") for _ in range(3)]
        for i in range(3):
            await produce(client, "t", producer_id, f"m{i}")
        for count, consumer_id in enumerate(consumers):
            for _ in range(count):
                await consume(client, "t", consumer_id)
        samples = await scrape(client)
    lags = {
        dict(labels)["consumer_id"]: v
        for (name, labels), v in samples.items()
        if name == "logqueue_consumer_lag"
    }
    assert lags == {str(consumers[0]): 3, str(consumers[1]): 2}
    assert value(samples, "logqueue_consumers") == 3


async def test_pool_gauge_counts_connections_in_use(settings: Settings) -> None:
    """Both pools count: the engine's and, on PostgreSQL, the hot paths' asyncpg pool."""
    pools = await open_pools(settings)
    metrics = Metrics(max_lag_series=10)
    metrics.watch_pool(pools.checked_out)

    def in_use() -> float:
        text = metrics.render(LagReport([], 0)).decode()
        line = next(x for x in text.splitlines() if x.startswith("logqueue_db_pool_checked_out"))
        return float(line.split()[-1])

    try:
        assert in_use() == 0
        async with pools.engine.connect():
            assert in_use() == 1
            if pools.driver is not None:
                async with pools.driver.connection():
                    assert in_use() == 2
        assert in_use() == 0
    finally:
        await pools.close()
