"""The SSE stream across real server processes on PostgreSQL: woken by a produce in another
process, and resumed by Last-Event-ID over a server restart with nothing lost or repeated."""

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import produce, register_producer
from tests.api.sse import EventReader, events
from tests.live_server import LiveServer, start_server

pytestmark = pytest.mark.postgres_only

TOTAL = 300


async def test_stream_on_one_process_sees_a_produce_on_the_other(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    streaming, producing = two_servers
    async with (
        httpx.AsyncClient(base_url=streaming.url, timeout=30) as here,
        httpx.AsyncClient(base_url=producing.url, timeout=30) as there,
    ):
        producer = await register_producer(there, "xstream")
        await produce(there, "xstream", producer, "before")
        async with here.stream("GET", "/topics/xstream/stream?from=earliest") as response:
            reader = EventReader(response)
            await reader.take(1)  # the stream is open and has caught up
            await produce(there, "xstream", producer, "from afar")
            # Without a cross-process wake-up the stream would only re-read at its 15 s
            # keep-alive.
            async with asyncio.timeout(5):
                got = await reader.take(1)
    assert [(e.id, e.data["message"] if e.data else None) for e in got] == [(1, "from afar")]


async def test_resume_by_last_event_id_over_a_server_restart(
    fresh_pg: str, two_servers: tuple[LiveServer, LiveServer], tmp_path: Path
) -> None:
    streaming, producing = two_servers
    received: list[tuple[int, str]] = []

    async def read(url: str) -> None:
        """Collect events until all have come or the server goes away under us."""
        headers = {"Last-Event-ID": str(received[-1][0])} if received else {}
        try:
            async with (
                httpx.AsyncClient(base_url=url, timeout=30) as http,
                http.stream(
                    "GET", "/topics/restart/stream?from=earliest", headers=headers
                ) as response,
            ):
                assert response.status_code == 200
                async for event in events(response):
                    if event.data is not None:
                        received.append((event.data["offset"], event.data["message"]))
                        if len(received) == TOTAL:
                            return
        except httpx.TransportError:
            return

    async with httpx.AsyncClient(base_url=producing.url, timeout=30) as there:
        producer = await register_producer(there, "restart")

        async def produce_all() -> None:
            for i in range(TOTAL):
                await produce(there, "restart", producer, f"m{i}")

        producing_task = asyncio.create_task(produce_all())
        restarted: LiveServer | None = None
        try:
            async with asyncio.timeout(60):
                reader = asyncio.create_task(read(streaming.url))
                while len(received) < 50:
                    await asyncio.sleep(0.01)  # poll the visible count, deadline above
                streaming.stop(signal.SIGKILL)  # mid-stream, the producer still going
                await reader
                cut = len(received)
                restarted = await asyncio.to_thread(
                    start_server, fresh_pg, log_path=tmp_path / "restarted.log"
                )
                await read(restarted.url)
                await producing_task
        finally:
            producing_task.cancel()
            if restarted is not None:
                restarted.stop()
    assert cut < TOTAL  # the restart really happened mid-stream
    assert received == [(i, f"m{i}") for i in range(TOTAL)]
