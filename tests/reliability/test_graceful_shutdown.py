"""SIGTERM during load: every acknowledged message is stored, and no request gets a 5xx.

Requests refused or cut off once the server has closed its socket are expected; they
were never acknowledged, so they promise nothing.
"""

import asyncio
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text

from app.database import create_engine
from app.settings import Settings
from tests.conftest import clear_tables
from tests.live_server import LiveServer, start_server
from tests.reliability.load import stored_log

PRODUCERS = 8
ACKS_BEFORE_SIGNAL = 300
TOPIC = "shutdown"


@dataclass
class Outcome:
    acknowledged: dict[int, str] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)


async def produce_until_refused(url: str, producer_id: int, name: str, outcome: Outcome) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for i in range(1_000_000):
            body = f"{name}-{i}"
            try:
                response = await http.post(
                    "/producer/produce",
                    json={"topic": TOPIC, "producer_id": producer_id, "message": body},
                )
            except httpx.TransportError:
                return  # the server is gone: this message was never acknowledged
            if response.status_code >= 500:
                outcome.server_errors.append(f"{response.status_code} {response.text}")
            else:
                assert response.status_code == 200, response.text
                outcome.acknowledged[response.json()["offset"]] = body
            assert time.monotonic() < deadline, "the server never stopped answering"


async def load_then_sigterm(server: LiveServer) -> Outcome:
    async with httpx.AsyncClient(base_url=server.url) as http:
        reply = await http.post("/producer/register", json={"topic": TOPIC})
        producer_id = reply.json()["producer_id"]
    outcome = Outcome()
    producers = [
        asyncio.create_task(produce_until_refused(server.url, producer_id, f"p{n}", outcome))
        for n in range(PRODUCERS)
    ]
    deadline = time.monotonic() + 60
    while len(outcome.acknowledged) < ACKS_BEFORE_SIGNAL:
        assert time.monotonic() < deadline, "load never got going"
        assert not any(p.done() for p in producers), "a producer stopped early"
        await asyncio.sleep(0.01)
    server.process.send_signal(signal.SIGTERM)
    await asyncio.gather(*producers)
    return outcome


async def next_offset(database_url: str) -> int:
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT next_offset FROM topics WHERE name = :name"), {"name": TOPIC}
            )
    finally:
        await engine.dispose()
    return int(found)


def test_sigterm_under_load_loses_no_acknowledged_message(
    database_url: str, tmp_path: Path
) -> None:
    asyncio.run(clear_tables(Settings(database_url=database_url)))
    server = start_server(database_url, log_path=tmp_path / "server.log")
    try:
        outcome = asyncio.run(load_then_sigterm(server))
        returncode = server.process.wait(timeout=60)
    finally:
        server.stop(signal.SIGKILL)

    assert returncode in (0, -signal.SIGTERM), server.log()
    assert "shutdown complete" in server.log()
    assert outcome.server_errors == []
    assert len(outcome.acknowledged) >= ACKS_BEFORE_SIGNAL
    stored = dict(stored_log(database_url, TOPIC))
    for offset, body in outcome.acknowledged.items():
        assert stored.get(offset) == body, f"acknowledged offset {offset} lost or changed"
    end = asyncio.run(next_offset(database_url))
    assert sorted(stored) == list(range(end)), "the log has a gap"
