"""The PostgreSQL hot paths stay index-bound: reading at offset 10,000,000 must cost what
reading at offset 0 does, so no plan may scan a topic's log. Checked on the generic plan,
the one a prepared statement ends up with."""

import re
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.database import driver_connect_args
from app.storage.postgres import _PG_ADVANCE_AND_READ, _PG_APPEND

pytestmark = pytest.mark.postgres_only


async def generic_plan(database_url: str, statement: str, *args: object) -> str:
    connection = await asyncpg.connect(**driver_connect_args(database_url))
    try:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        await connection.execute(f"PREPARE probe AS {statement}")
        placeholders = ", ".join(f"${i}" for i in range(1, len(args) + 1))
        # EXPLAIN without ANALYZE: the plan only, nothing is executed or written.
        rows = await connection.fetch(
            f"EXPLAIN EXECUTE probe({placeholders})".replace(
                f"({placeholders})", "(" + ", ".join(_literal(a) for a in args) + ")"
            )
        )
        return "\n".join(row[0] for row in rows)
    finally:
        await connection.close()


def _literal(value: object) -> str:
    if isinstance(value, list):
        items = ", ".join(_literal(v) for v in value)
        return f"ARRAY[{items}]"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


@pytest.fixture
async def long_log(database_url: str) -> AsyncIterator[int]:
    """A topic of 300,000 messages, with statistics that say so (plans depend on them)."""
    topic_id = 987_654_321
    connection = await asyncpg.connect(**driver_connect_args(database_url))
    try:
        await connection.execute(
            'INSERT INTO messages (topic_id, "offset", body, produced_at, producer_id) '
            "SELECT $1, n, 'm', now(), 1 FROM generate_series(0, 299999) AS n",
            topic_id,
        )
        await connection.execute("ANALYZE messages")
        yield topic_id
    finally:
        await connection.execute("DELETE FROM messages WHERE topic_id = $1", topic_id)
        await connection.execute("ANALYZE messages")
        await connection.close()


async def test_consume_reads_only_its_range_of_a_long_log(database_url: str, long_log: int) -> None:
    plan = await generic_plan(database_url, _PG_ADVANCE_AND_READ, long_log, 1, 100, 4_194_304)
    assert "Seq Scan on messages" not in plan, plan
    # An ordered walk of the primary key from ``start``: no bitmap of the topic, no sort.
    assert "Index Scan using pk_messages on messages" in plan, plan
    # (``old`` is scanned more than once, so the plan may call this scan old_1, old_2 …)
    bounds = (
        r'\("offset" >= (old(?:_\d+)?)\.start\) AND '
        r'\("offset" < LEAST\(\(\1\.start \+ \$3\), \1\."end"\)\)'
    )
    assert re.search(bounds, plan), plan
    # The byte cap is applied in the database, over that range's rows.
    assert "Filter: ((sized.upto <= $4) OR (sized.n = 1))" in plan, plan


async def test_produce_touches_no_message_scan(database_url: str) -> None:
    # One sequenced request of producer 7 with one message.
    args = (1, [7], [0], [1], [7], ["a"], [1], "channel", "payload")
    plan = await generic_plan(database_url, _PG_APPEND, *args)
    assert "Seq Scan on messages" not in plan, plan
