"""Consumer groups over HTTP: leases, acks, redelivery, dead letters, seek and start."""

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from tests.api.group_helpers import (
    details,
    fetch,
    lease_call,
    offsets,
    produce_many,
    put_group,
    topic_with_messages,
)
from tests.api.helpers import assert_failure, create_topic, register_consumer


async def test_create_shows_defaults_and_update_keeps_what_is_not_given(
    client: httpx.AsyncClient,
) -> None:
    await topic_with_messages(client, "t", 3)
    created = await put_group(client, "t", "g")
    assert {k: created[k] for k in ("ack_wait_ms", "max_deliver", "dead_letter_topic")} == {
        "ack_wait_ms": 30000,
        "max_deliver": 5,
        "dead_letter_topic": None,
    }
    assert (created["next_offset"], created["lag"], created["pending"]) == (0, 3, 0)
    updated = await put_group(client, "t", "g", max_deliver=2, start="latest")
    assert (updated["max_deliver"], updated["ack_wait_ms"], updated["next_offset"]) == (2, 30000, 0)
    listed = (await client.get("/topics/t/groups")).json()["groups"]
    assert [g["group"] for g in listed] == ["g"]
    assert (await client.delete("/topics/t/groups/g")).status_code == 200
    assert_failure(await client.get("/topics/t/groups/g"), 404, "Group 'g'")
    assert (await client.get("/topics/t/groups")).json()["groups"] == []


async def test_members_get_disjoint_messages_in_offset_order(client: httpx.AsyncClient) -> None:
    await topic_with_messages(client, "t", 10)
    await put_group(client, "t", "g")
    first = await fetch(client, "t", "g", 4, member="a")
    second = await fetch(client, "t", "g", 4, member="b")
    assert offsets(first) == [0, 1, 2, 3]
    assert offsets(second) == [4, 5, 6, 7]
    assert [m["message"] for m in first["messages"]] == ["m0", "m1", "m2", "m3"]
    assert {m["delivery"] for m in first["messages"] + second["messages"]} == {1}
    assert first["lease_id"] != second["lease_id"]
    assert datetime.fromisoformat(first["lease_expires_at"]) > datetime.now(UTC)
    state = await details(client, "t", "g")
    assert (state["next_offset"], state["pending"], state["lag"]) == (8, 8, 10)


async def test_nothing_to_fetch_is_an_empty_list_and_no_lease(client: httpx.AsyncClient) -> None:
    await topic_with_messages(client, "t", 0)
    await put_group(client, "t", "g")
    assert await fetch(client, "t", "g", 5) == {
        "status": "success",
        "lease_id": None,
        "lease_expires_at": None,
        "messages": [],
    }


async def test_ack_finishes_the_lease_once(client: httpx.AsyncClient) -> None:
    await topic_with_messages(client, "t", 5)
    await put_group(client, "t", "g")
    lease = (await fetch(client, "t", "g", 5))["lease_id"]
    response = await lease_call(client, "t", "g", "ack", lease_id=lease)
    assert response.json() == {"status": "success", "acked": 5}
    state = await details(client, "t", "g")
    assert (state["acked"], state["pending"], state["lag"]) == (5, 0, 0)
    assert_failure(await lease_call(client, "t", "g", "ack", lease_id=lease), 409, "expired")
    assert (await fetch(client, "t", "g", 5))["messages"] == []


async def test_ack_of_some_offsets_leaves_the_rest_on_the_lease(client: httpx.AsyncClient) -> None:
    await topic_with_messages(client, "t", 6)
    await put_group(client, "t", "g")
    lease = (await fetch(client, "t", "g", 6))["lease_id"]
    response = await lease_call(client, "t", "g", "ack", lease_id=lease, offsets=[1, 3, 4])
    assert response.json()["acked"] == 3
    before = await details(client, "t", "g")
    assert_failure(
        await lease_call(client, "t", "g", "ack", lease_id=lease, offsets=[0, 3]), 409, "offsets"
    )
    assert await details(client, "t", "g") == before
    rest = await lease_call(client, "t", "g", "ack", lease_id=lease)
    assert rest.json()["acked"] == 3
    assert (await details(client, "t", "g"))["acked"] == 6


async def test_expired_lease_is_delivered_again_and_fenced(client: httpx.AsyncClient) -> None:
    await topic_with_messages(client, "t", 3)
    await put_group(client, "t", "g", ack_wait_ms=200)
    old = await fetch(client, "t", "g", 3, member="slow")
    # The long poll returns as soon as the lease expires (woken by the group's next expiry).
    again = await fetch(client, "t", "g", 3, wait_ms=10_000, member="fast")
    assert offsets(again) == [0, 1, 2]
    assert [m["delivery"] for m in again["messages"]] == [2, 2, 2]
    before = stored(await details(client, "t", "g"))
    assert before["redelivered"] == 3
    for verb in ("ack", "nack", "term", "extend"):
        assert_failure(
            await lease_call(client, "t", "g", verb, lease_id=old["lease_id"]), 409, "expired"
        )
    assert stored(await details(client, "t", "g")) == before


def stored(state: dict[str, Any]) -> dict[str, Any]:
    """Details without ``pending``, which the clock changes as leases expire."""
    return {k: v for k, v in state.items() if k != "pending"}


async def test_ack_after_expiry_before_anyone_refetches_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    await topic_with_messages(client, "t", 2)
    await put_group(client, "t", "g", ack_wait_ms=100)
    lease = (await fetch(client, "t", "g", 2))["lease_id"]
    deadline = time.monotonic() + 10
    while (await details(client, "t", "g"))["pending"] and time.monotonic() < deadline:
        pass  # the database clock decides expiry; poll what it reports
    before = await details(client, "t", "g")
    assert before["pending"] == 0
    response = await lease_call(client, "t", "g", "ack", lease_id=lease)
    assert response.status_code == 409
    assert await details(client, "t", "g") == before
    assert offsets(await fetch(client, "t", "g", 2)) == [0, 1]


async def test_nack_gives_back_at_once_or_after_the_delay(client: httpx.AsyncClient) -> None:
    await topic_with_messages(client, "t", 2)
    await put_group(client, "t", "g")
    lease = (await fetch(client, "t", "g", 2))["lease_id"]
    nacked = await lease_call(client, "t", "g", "nack", lease_id=lease, offsets=[0])
    assert nacked.json() == {"status": "success", "nacked": 1}
    back = await fetch(client, "t", "g", 2, member="b")
    assert [(m["offset"], m["delivery"]) for m in back["messages"]] == [(0, 2)]
    started = time.monotonic()
    await lease_call(client, "t", "g", "nack", lease_id=back["lease_id"], delay_ms=300)
    assert (await fetch(client, "t", "g", 2))["messages"] == []
    later = await fetch(client, "t", "g", 2, wait_ms=10_000)
    assert time.monotonic() - started >= 0.3
    assert [(m["offset"], m["delivery"]) for m in later["messages"]] == [(0, 3)]


async def test_extend_keeps_the_lease_past_its_ack_wait(client: httpx.AsyncClient) -> None:
    await topic_with_messages(client, "t", 1)
    await put_group(client, "t", "g", ack_wait_ms=1000)
    fetched = await fetch(client, "t", "g")
    expires = datetime.fromisoformat(fetched["lease_expires_at"])
    response = await lease_call(client, "t", "g", "extend", lease_id=fetched["lease_id"], ms=20_000)
    assert response.status_code == 200, response.text
    extended = datetime.fromisoformat(response.json()["lease_expires_at"])
    assert (extended - expires).total_seconds() > 15
    # Past the original expiry, nobody else gets it, and the lease still acks.
    assert (await fetch(client, "t", "g", wait_ms=1500, member="b"))["messages"] == []
    ack = await lease_call(client, "t", "g", "ack", lease_id=fetched["lease_id"])
    assert ack.json()["acked"] == 1


async def test_term_and_max_deliver_write_envelopes_to_the_dead_letter_topic(
    client: httpx.AsyncClient,
) -> None:
    await topic_with_messages(client, "t", 3)
    await create_topic(client, "dead")
    await put_group(client, "t", "g", max_deliver=2, dead_letter_topic="dead")
    lease = (await fetch(client, "t", "g", 3))["lease_id"]
    termed = await lease_call(client, "t", "g", "term", lease_id=lease, offsets=[0])
    assert termed.json() == {"status": "success", "terminated": 1}
    await lease_call(client, "t", "g", "nack", lease_id=lease, offsets=[1])
    second = await fetch(client, "t", "g", 1)
    assert [(m["offset"], m["delivery"]) for m in second["messages"]] == [(1, 2)]
    await lease_call(client, "t", "g", "nack", lease_id=second["lease_id"])  # the 2nd delivery
    state = await details(client, "t", "g")
    assert (state["dead_lettered"], state["lag"]) == (2, 1)
    reader = await register_consumer(client, "dead")
    read = await client.get(
        "/consumer/consume", params={"topic": "dead", "consumer_id": reader, "max_messages": 10}
    )
    letters = [orjson.loads(m["message"]) for m in read.json()["messages"]]
    for letter in letters:
        assert datetime.fromisoformat(letter.pop("produced_at"))
    assert letters == [
        {"topic": "t", "group": "g", "offset": 0, "delivery": 1, "reason": "term", "message": "m0"},
        {
            "topic": "t",
            "group": "g",
            "offset": 1,
            "delivery": 2,
            "reason": "max_deliver",
            "message": "m1",
        },
    ]


async def test_expiry_after_max_deliver_dead_letters_without_a_topic(
    client: httpx.AsyncClient,
) -> None:
    await topic_with_messages(client, "t", 1)
    await put_group(client, "t", "g", max_deliver=1, ack_wait_ms=100)
    await fetch(client, "t", "g")
    deadline = time.monotonic() + 10
    while (state := await details(client, "t", "g"))["dead_lettered"] == 0:
        assert time.monotonic() < deadline, state
        # A fetch after the expiry finds the message spent and finishes it as dead.
        assert (await fetch(client, "t", "g", wait_ms=200))["messages"] == []
    assert (state["dead_lettered"], state["lag"], state["pending"]) == (1, 0, 0)


async def test_seek_by_offset_time_and_latest(client: httpx.AsyncClient) -> None:
    producer = await topic_with_messages(client, "t", 4)
    await put_group(client, "t", "g")
    lease = (await fetch(client, "t", "g", 4))["lease_id"]
    response = await client.post("/topics/t/groups/g/seek", json={"start": {"offset": 2}})
    assert response.json()["group"]["next_offset"] == 2
    assert response.json()["group"]["pending"] == 0
    assert (await lease_call(client, "t", "g", "ack", lease_id=lease)).status_code == 409
    assert offsets(await fetch(client, "t", "g", 10)) == [2, 3]

    boundary = datetime.now(UTC)
    await produce_many(client, "t", producer, ["late0", "late1"])
    await client.post("/topics/t/groups/g/seek", json={"start": {"time": boundary.isoformat()}})
    replay = await fetch(client, "t", "g", 10)
    assert [m["message"] for m in replay["messages"]] == ["late0", "late1"]

    latest = await client.post("/topics/t/groups/g/seek", json={"start": "latest"})
    assert latest.json()["group"]["next_offset"] == 6
    assert (await fetch(client, "t", "g", 10))["messages"] == []
    earliest = await client.post("/topics/t/groups/g/seek", json={"start": "earliest"})
    assert earliest.json()["group"]["lag"] == 6


async def test_start_times_beyond_utc_years_are_the_ends_of_the_log(
    client: httpx.AsyncClient,
) -> None:
    await topic_with_messages(client, "t", 2)
    early = await put_group(client, "t", "early", start={"time": "0001-01-01T00:00:00+01:00"})
    late = await put_group(client, "t", "late", start={"time": "9999-12-31T23:59:59-01:00"})
    assert (early["next_offset"], late["next_offset"]) == (0, 2)


async def test_start_applies_at_creation(client: httpx.AsyncClient) -> None:
    producer = await topic_with_messages(client, "t", 3)
    assert (await put_group(client, "t", "late", start="latest"))["next_offset"] == 3
    assert (await put_group(client, "t", "mid", start={"offset": 1}))["next_offset"] == 1
    assert (await put_group(client, "t", "far", start={"offset": 99}))["next_offset"] == 3
    boundary = datetime.now(UTC)
    await produce_many(client, "t", producer, ["new"])
    timed = await put_group(client, "t", "timed", start={"time": boundary.isoformat()})
    assert timed["next_offset"] == 3
    assert [m["message"] for m in (await fetch(client, "t", "late", 5))["messages"]] == ["new"]


async def test_long_poll_is_woken_by_a_produce(client: httpx.AsyncClient) -> None:
    import asyncio

    producer = await topic_with_messages(client, "t", 0)
    await put_group(client, "t", "g")
    poll = asyncio.create_task(fetch(client, "t", "g", wait_ms=20_000))
    await asyncio.sleep(0)
    started = time.monotonic()
    await produce_many(client, "t", producer, ["hello"])
    got = await poll
    assert [m["message"] for m in got["messages"]] == ["hello"]
    assert time.monotonic() - started < 10


async def test_leases_of_other_groups_and_unknown_names_are_404(client: httpx.AsyncClient) -> None:
    await topic_with_messages(client, "t", 2)
    await put_group(client, "t", "g")
    await put_group(client, "t", "h")
    lease = (await fetch(client, "t", "g"))["lease_id"]
    assert_failure(await lease_call(client, "t", "h", "ack", lease_id=lease), 404, "lease")
    assert_failure(await lease_call(client, "t", "g", "ack", lease_id="nonsense"), 404, "lease")
    assert_failure(await client.post("/topics/t/groups/zz/fetch", json={"member": "a"}), 404)
    assert_failure(await client.post("/topics/nope/groups/g/fetch", json={"member": "a"}), 404)
    assert_failure(await client.put("/topics/t/groups/g", json={"dead_letter_topic": "t"}), 409)
    assert_failure(await client.put("/topics/t/groups/g", json={"dead_letter_topic": "no"}), 404)
