"""Everything acknowledged survives stopping the app and starting a new one."""

import httpx

from app.main import create_app
from app.settings import Settings
from tests.api.helpers import consume, drain, produce, register_consumer, register_producer


async def test_state_survives_restart(empty_db: Settings) -> None:
    first = create_app(empty_db)
    async with (
        first.router.lifespan_context(first),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://a") as client,
    ):
        producer_id = await register_producer(client, "durable")
        reader = await register_consumer(client, "durable")
        idle = await register_consumer(client, "durable")
        for i in range(5):
            await produce(client, "durable", producer_id, f"m{i}")
        assert (await consume(client, "durable", reader))["message"] == "m0"
        assert (await consume(client, "durable", reader))["message"] == "m1"

    second = create_app(empty_db)
    async with (
        second.router.lifespan_context(second),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://b") as client,
    ):
        assert (await client.get("/topics")).json()["topics"] == ["durable"]
        size = await client.get("/size", params={"topic": "durable", "consumer_id": reader})
        assert size.json()["size"] == 3
        # The old producer id still works and continues the offsets.
        assert await produce(client, "durable", producer_id, "m5") == 5
        assert await drain(client, "durable", reader) == ["m2", "m3", "m4", "m5"]
        assert await drain(client, "durable", idle) == [f"m{i}" for i in range(6)]
