"""Group members over plain HTTP for reliability tests: each records what it was given and
which acks the server confirmed, so a test can tell allowed repeats from lost messages."""

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import httpx

BATCH = 100


@dataclass
class Ledger:
    """Deliveries seen by every member, and the offsets whose ack was answered success."""

    deliveries: Counter[int] = field(default_factory=Counter)
    confirmed: set[int] = field(default_factory=set)
    unconfirmed: set[int] = field(default_factory=set)
    """Offsets of leases whose ack was never answered (in flight, refused or never sent)."""


async def member(
    urls: list[str], topic: str, group: str, name: str, ledger: Ledger, done: asyncio.Event
) -> None:
    """Fetch, then ack the whole lease, until ``done``; connection errors (a killed server)
    are retried, so the member carries on once the server is back."""
    turn = 0
    async with httpx.AsyncClient(timeout=30) as http:
        while not done.is_set():
            base = urls[turn % len(urls)]
            turn += 1
            try:
                fetched = await http.post(
                    f"{base}/topics/{topic}/groups/{group}/fetch",
                    json={"member": name, "max_messages": BATCH, "wait_ms": 300},
                )
            except httpx.TransportError:
                await asyncio.sleep(0.05)  # the server is down: retry, as the SDK does
                continue
            if fetched.status_code != 200:
                await asyncio.sleep(0.05)  # 503 while the database connection recovers
                continue
            body = fetched.json()
            offsets = [m["offset"] for m in body["messages"]]
            ledger.deliveries.update(offsets)
            if body["lease_id"] is None:
                continue
            try:
                acked = await http.post(
                    f"{base}/topics/{topic}/groups/{group}/ack", json={"lease_id": body["lease_id"]}
                )
            except httpx.TransportError:
                ledger.unconfirmed.update(offsets)
                continue
            (ledger.confirmed if acked.status_code == 200 else ledger.unconfirmed).update(offsets)


async def group_lag(http: httpx.AsyncClient, url: str, topic: str, group: str) -> int | None:
    try:
        response = await http.get(f"{url}/topics/{topic}/groups/{group}")
    except httpx.TransportError:
        return None
    return int(response.json()["group"]["lag"]) if response.status_code == 200 else None
