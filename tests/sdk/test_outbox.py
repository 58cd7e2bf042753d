"""The producer's outbox, without I/O: coalescing, numbering, splitting a refused batch."""

from typing import Any

import pytest

from logqueue_sdk._outbox import Entry, Outbox, Verdict
from logqueue_sdk.errors import (
    BrokerUnavailable,
    InvalidRequest,
    LogQueueError,
    SequenceConflict,
    Stopped,
)


def _entry(*texts: str, topic: str = "t") -> Entry[str]:
    return Entry(topic, list(texts), waiter="+".join(texts))


def _body(outbox: Outbox[str], producer_id: int) -> tuple[int, list[str]] | None:
    call = outbox.first(producer_id)
    if call is None:
        return None
    assert call.json is not None
    return call.json["sequence"], call.json.get("messages", [call.json.get("message")])


def test_take_coalesces_up_to_max_batch_without_splitting_an_entry() -> None:
    outbox: Outbox[str] = Outbox(max_batch=4, max_queued=100)
    for entry in [_entry("a"), _entry("b", "c"), _entry("d", "e"), _entry("f")]:
        outbox.add(1, entry)
    assert (outbox.queued, outbox.waiting) == (6, 6)
    assert outbox.take() == 1
    assert _body(outbox, 1) == (0, ["a", "b", "c"])
    assert (outbox.queued, outbox.waiting) == (6, 3)
    assert [e.waiter for e in outbox.confirmed(1)] == ["a", "b+c"]
    assert outbox.take() == 1
    assert _body(outbox, 1) == (1, ["d", "e", "f"])
    assert outbox.queued == 3 and outbox.waiting == 0


def test_add_asks_to_wake_the_sender_only_when_it_may_be_waiting() -> None:
    """An idle sender waits for something to wait; a lingering one for a full batch."""
    outbox: Outbox[str] = Outbox(max_batch=3, max_queued=100)
    assert outbox.add(1, _entry("a")) is True
    assert outbox.add(1, _entry("b")) is False
    assert outbox.add(2, _entry("c")) is True  # a full batch waits now
    assert outbox.add(1, _entry("d")) is False
    outbox.take()
    outbox.take()
    assert outbox.waiting == 0
    assert outbox.add(1, _entry("e", "f", "g", "h")) is True


def test_a_single_message_goes_as_a_single_produce() -> None:
    outbox: Outbox[str] = Outbox(max_batch=10, max_queued=10)
    outbox.add(1, _entry("only"))
    outbox.take()
    call = outbox.first(1)
    assert call is not None and call.json == {
        "topic": "t",
        "producer_id": 1,
        "message": "only",
        "sequence": 0,
    }


def test_producer_ids_take_turns() -> None:
    outbox: Outbox[str] = Outbox(max_batch=1, max_queued=100)
    for text in "abc":
        outbox.add(1, _entry(text))
    outbox.add(2, _entry("x", topic="u"))
    assert [outbox.take() for _ in range(4)] == [1, 2, 1, 1]


def test_unanswered_calls_stay_ahead_of_newer_ones() -> None:
    outbox: Outbox[str] = Outbox(max_batch=10, max_queued=100)
    outbox.add(1, _entry("a"))
    outbox.take()
    outbox.add(1, _entry("b"))
    outbox.take()
    assert outbox.holding() == [1] and outbox.kept() == 2
    assert [e.waiter for e in outbox.unconfirmed(1)] == ["a", "b"]
    assert _body(outbox, 1) == (0, ["a"]), "the same call, the same number, on every attempt"
    outbox.confirmed(1)
    assert _body(outbox, 1) == (1, ["b"])


def test_a_batch_refused_for_its_content_is_split_to_find_the_entry_at_fault() -> None:
    outbox: Outbox[str] = Outbox(max_batch=10, max_queued=100)
    for text in ["a", "", "b"]:
        outbox.add(1, _entry(text))
    outbox.take()
    assert outbox.refused(1, "invalid_request") == []
    assert _body(outbox, 1) == (0, ["a"])
    outbox.confirmed(1)
    assert _body(outbox, 1) == (1, ["", "b"])
    assert outbox.refused(1, "invalid_request") == []
    assert [e.waiter for e in outbox.refused(1, "invalid_request")] == [""]
    assert _body(outbox, 1) == (1, ["b"]), "a refusal does not use up the number"
    outbox.confirmed(1)
    assert outbox.queued == 0 and outbox.holding() == []


def test_other_refusals_fail_the_whole_batch() -> None:
    outbox: Outbox[str] = Outbox(max_batch=10, max_queued=100)
    outbox.add(1, _entry("a"))
    outbox.add(1, _entry("b"))
    outbox.take()
    assert [e.waiter for e in outbox.refused(1, "producer_not_found")] == ["a", "b"]
    assert outbox.queued == 0


def test_room_is_bounded_by_max_queued() -> None:
    outbox: Outbox[str] = Outbox(max_batch=10, max_queued=3)
    assert outbox.has_room(5), "an empty outbox takes anything, or a big batch never fits"
    outbox.add(1, _entry("a", "b"))
    assert outbox.has_room(1) and not outbox.has_room(2)
    outbox.take()
    assert not outbox.has_room(2), "taken but unconfirmed messages still count"
    outbox.confirmed(1)
    assert outbox.has_room(3)


def _numbered(outbox: Outbox[str], producer_id: int, position: int) -> tuple[int, list[str]]:
    call = outbox.call_at(producer_id, position)
    assert call is not None and call.json is not None
    return call.json["sequence"], call.json.get("messages", [call.json.get("message")])


def test_a_call_beside_one_on_the_wire_is_taken_only_full_unless_hurried() -> None:
    outbox: Outbox[str] = Outbox(max_batch=3, max_queued=100)
    for text in "abcde":
        outbox.add(1, _entry(text))
    assert outbox.take_next(1, full=True) is True
    assert outbox.take_next(1, full=True) is False, "two waiting do not fill a batch of 3"
    assert outbox.waiting == 2
    assert outbox.take_next(1, full=False) is True
    assert outbox.take_next(1, full=False) is False, "nothing left"
    assert _numbered(outbox, 1, 0) == (0, ["a", "b", "c"])
    assert _numbered(outbox, 1, 1) == (1, ["d", "e"])
    assert outbox.call_at(1, 2) is None
    assert outbox.waiting == 0 and outbox.queued == 5


def test_a_kept_call_short_of_a_batch_is_not_full() -> None:
    outbox: Outbox[str] = Outbox(max_batch=2, max_queued=100)
    outbox.add(1, _entry("a"))
    outbox.take()
    outbox.add(1, _entry("b", "c"))
    outbox.take()
    assert [outbox.full(1, position) for position in range(3)] == [False, True, True]


def test_an_entry_larger_than_a_batch_is_a_full_call_of_its_own() -> None:
    outbox: Outbox[str] = Outbox(max_batch=2, max_queued=100)
    outbox.add(1, _entry("a", "b", "c"))
    outbox.add(1, _entry("d"))
    assert outbox.take_next(1, full=True) is True
    assert _numbered(outbox, 1, 0) == (0, ["a", "b", "c"])


def test_calls_on_the_wire_are_numbered_in_order_and_confirmed_oldest_first() -> None:
    outbox: Outbox[str] = Outbox(max_batch=1, max_queued=100)
    for text in "abc":
        outbox.add(1, _entry(text))
        outbox.take_next(1, full=True)
    assert [_numbered(outbox, 1, i) for i in range(3)] == [(0, ["a"]), (1, ["b"]), (2, ["c"])]
    assert outbox.sent_beyond(1)
    assert [e.waiter for e in outbox.confirmed(1)] == ["a"]
    assert _numbered(outbox, 1, 0) == (1, ["b"]), "the same number as before"


def test_answers_are_judged_against_what_the_id_has_sent() -> None:
    outbox: Outbox[str] = Outbox(max_batch=1, max_queued=100)
    for text in "abcd":
        outbox.add(1, _entry(text))
        outbox.take_next(1, full=True)
    for position in range(3):  # sequences 0, 1, 2 on the wire
        outbox.call_at(1, position)
    outbox.confirmed(1)  # the oldest is now sequence 1

    def judge(outcome: dict[str, Any] | LogQueueError, follower: bool = False) -> Verdict:
        return outbox.judge(1, outcome, follower)

    def conflict(expected: int) -> SequenceConflict:
        return SequenceConflict("409", 409, expected=expected)

    assert judge({"offsets": [1]}) is Verdict.STORED
    assert judge(conflict(2)) is Verdict.STORED, "stored before, its answer lost"
    assert judge(conflict(3)) is Verdict.STORED, "so was the call after it"
    assert judge(conflict(4)) is Verdict.REFUSED, "beyond what this id sent: not ours"
    assert judge(conflict(0), follower=True) is Verdict.AGAIN, "arrived before the one before"
    assert judge(conflict(0)) is Verdict.REFUSED, "sent as the oldest: the broker disagrees"
    assert judge(BrokerUnavailable("down")) is Verdict.UNANSWERED
    assert judge(Stopped("stopped")) is Verdict.UNANSWERED
    assert judge(InvalidRequest("empty", 422, code="invalid_request")) is Verdict.REFUSED


def test_moving_an_id_renumbers_its_calls_and_queue_from_zero() -> None:
    outbox: Outbox[str] = Outbox(max_batch=2, max_queued=100)
    for text in "abcde":
        outbox.add(1, _entry(text))
    outbox.take_next(1, full=True)
    outbox.take_next(1, full=True)
    outbox.call_at(1, 0)
    outbox.call_at(1, 1)
    outbox.confirmed(1)
    outbox.move(1, 7)
    assert outbox.call_at(1, 0) is None and outbox.holding() == [7]
    call = outbox.call_at(7, 0)
    assert call is not None and call.json is not None
    assert (call.json["producer_id"], call.json["sequence"]) == (7, 0)
    assert call.json["messages"] == ["c", "d"]
    assert not outbox.sent_beyond(7)
    assert outbox.take() == 7, "the queue moved too"
    assert _numbered(outbox, 7, 1) == (1, ["e"])
    assert outbox.queued == 3


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Outbox(max_batch=0, max_queued=1)
    with pytest.raises(ValueError, match="max_queued"):
        Outbox(max_batch=1, max_queued=0)
