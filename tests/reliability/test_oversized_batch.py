"""A small request must not freeze the server: a batch is counted before its items are
validated, and a 422 spells out only a few field errors."""

import threading
import time

import httpx
import pytest

from app.errors import MAX_FIELD_ERRORS
from tests.live_server import LiveServer

pytestmark = pytest.mark.postgres_only


def test_a_hundred_thousand_empty_messages_are_refused_at_once(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        producer_id = http.post("/producer/register", json={"topic": "flood"}).json()["producer_id"]
        body = {"topic": "flood", "producer_id": producer_id, "messages": [""] * 100_000}
        status_latency: list[float] = []

        def check_status() -> None:
            with httpx.Client(base_url=live_server.url, timeout=60) as other:
                started = time.perf_counter()
                other.get("/status").raise_for_status()
                status_latency.append(time.perf_counter() - started)

        started = time.perf_counter()
        beside = threading.Thread(target=check_status)
        beside.start()
        refused = http.post("/producer/produce", json=body)
        elapsed = time.perf_counter() - started
        beside.join(timeout=60)

    assert refused.status_code == 413, refused.text[:300]
    assert refused.json()["error"] == "batch_too_large"
    assert len(refused.content) < 1000
    assert elapsed < 1.0, elapsed
    assert status_latency and status_latency[0] < 1.0, status_latency


def test_a_422_lists_a_few_field_errors_and_counts_the_rest(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=60) as http:
        producer_id = http.post("/producer/register", json={"topic": "few"}).json()["producer_id"]
        body = {"topic": "few", "producer_id": producer_id, "messages": [""] * 1000}
        refused = http.post("/producer/produce", json=body)
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["error"] == "invalid_request"
    assert len(answer["errors"]) == MAX_FIELD_ERRORS
    assert f"and {1000 - MAX_FIELD_ERRORS} more" in answer["message"]
    assert len(refused.content) < 5000
