"""The server's stderr: JSON lines, one per request, never a message body."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import LiveServer, start_server

SECRET = "body-that-must-never-be-logged"


def run_traffic(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        producer_id = http.post("/producer/register", json={"topic": "logs"}).json()["producer_id"]
        sent = http.post(
            "/producer/produce",
            json={"topic": "logs", "producer_id": producer_id, "message": SECRET},
        )
        assert sent.status_code == 200
        assert http.get("/topics/missing").status_code == 404


def stopped_log(server: LiveServer) -> list[dict[str, Any]]:
    server.stop()
    return [json.loads(line) for line in server.log().splitlines()]  # each line: one object


Serve = Callable[..., LiveServer]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start the server with extra settings; stopped at the end even if the test failed."""
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        url = f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}"
        started.append(start_server(url, log_path=tmp_path / "server.log", **env))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_one_json_line_per_request_without_bodies(serve: Serve) -> None:
    server = serve()
    run_traffic(server)
    entries = stopped_log(server)

    requests = [e for e in entries if e["logger"] == "logqueue.request"]
    produce = next(e for e in requests if e["route"] == "/producer/produce")
    assert produce["method"] == "POST"
    assert produce["status"] == 200
    assert produce["topic"] == "logs"
    assert isinstance(produce["latency_ms"], float)
    missing = next(e for e in requests if e["route"] == "/topics/{name}")
    assert (missing["status"], missing["topic"]) == (404, "missing")
    # /status (polled at start-up), register, produce, describe: nothing else, nothing twice.
    assert {e["route"] for e in requests} == {
        "/status",
        "/producer/register",
        "/producer/produce",
        "/topics/{name}",
    }
    assert sum(e["route"] != "/status" for e in requests) == 3
    assert not [e for e in entries if e["logger"] == "uvicorn.access"]  # off by default
    assert SECRET not in server.log()
    assert any(e["message"] == "shutdown complete" for e in entries)


def test_access_log_can_be_turned_on(serve: Serve) -> None:
    server = serve(LOGQUEUE_ACCESS_LOG="true")
    run_traffic(server)
    access = [e for e in stopped_log(server) if e["logger"] == "uvicorn.access"]
    assert any("/producer/produce" in e["message"] for e in access)
    assert SECRET not in server.log()


def test_log_level_warning_silences_request_lines(serve: Serve) -> None:
    server = serve(LOGQUEUE_LOG_LEVEL="WARNING")
    run_traffic(server)
    assert [e for e in stopped_log(server) if e["level"] in ("debug", "info")] == []
