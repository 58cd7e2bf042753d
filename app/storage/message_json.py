"""The JSON of a batch of stored messages, built where the rows are read.

A batch consume answers ``{"status": "success", "messages": [...]}``, and for 1,000 messages
the per-message Python objects (a driver record, a ``StoredMessage``, a dict for orjson)
cost most of the server's CPU. So the batch is encoded here, once: on PostgreSQL by the
query itself (``pg_message_json`` inside ``string_agg``), on the portable path with orjson.
Both write exactly the same bytes (``tests/storage/test_message_json.py``): orjson's
escaping, which PostgreSQL's ``to_json`` shares, and its RFC 3339 UTC time with a ``Z``,
microseconds only when there are any.
"""

from collections.abc import Sequence

import orjson

from app.domain import EncodedMessages, StoredMessage
from app.group_types import LeasedMessage


def encode_messages(found: Sequence[StoredMessage]) -> EncodedMessages:
    """The portable encoding, from messages already read."""
    array = [{"offset": m.offset, "message": m.body, "produced_at": m.produced_at} for m in found]
    return EncodedMessages(len(found), orjson.dumps(array, option=orjson.OPT_UTC_Z))


def encode_leased(found: Sequence[LeasedMessage]) -> EncodedMessages:
    """A group fetch's messages: each also says how many times it has been delivered."""
    array = [
        {
            "offset": m.offset,
            "message": m.body,
            "produced_at": m.produced_at,
            "delivery": m.delivery,
        }
        for m in found
    ]
    return EncodedMessages(len(found), orjson.dumps(array, option=orjson.OPT_UTC_Z))


def pg_message_json(offset: str, body: str, produced_at: str, delivery: str | None = None) -> str:
    """One message's JSON object as PostgreSQL text (with its ``delivery`` count for a
    group fetch); the arguments are SQL expressions."""
    at = f"""to_char({produced_at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
    tail = "'Z\"}'" if delivery is None else f"""'Z","delivery":' || {delivery} || '}}'"""
    return (
        f"""'{{"offset":' || {offset} || ',"message":' || to_json({body})::text"""
        f""" || ',"produced_at":"' || replace({at}, '.000000', '') || {tail}"""
    )


def pg_json_array(element: str, order: str) -> str:
    """The aggregate turning ``element`` texts into one JSON array (``[]`` for none), in
    ``order``, as the UTF-8 bytes the answer is made of: ``convert_to`` hands them over as
    bytea (no decoding into a Python string and encoding back, which costs 0.8 us a message
    for bodies that are not ASCII) and converts from the database's encoding, were it not
    UTF-8."""
    array = f"""'[' || COALESCE(string_agg({element}, ',' ORDER BY {order}), '') || ']'"""
    return f"convert_to({array}, 'UTF8')"
