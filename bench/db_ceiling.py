"""The database ceiling: what PostgreSQL takes straight from asyncpg, with no HTTP and no ORM.

The scratch table has the shape of ``messages`` (same key, same columns), so a row here
costs the database what a stored message costs it.
"""

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

import asyncpg

TABLE = "bench_scratch"
CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    topic_id bigint NOT NULL,
    "offset" bigint NOT NULL,
    body text NOT NULL,
    produced_at timestamptz NOT NULL,
    producer_id bigint NOT NULL,
    PRIMARY KEY (topic_id, "offset")
)
"""
INSERT_ONE = f"INSERT INTO {TABLE} VALUES (1, $1, $2, now(), 1)"
INSERT_MANY = (
    f"INSERT INTO {TABLE} SELECT 1, o, b, now(), 1 FROM unnest($1::bigint[], $2::text[]) AS t(o, b)"
)


async def single_row_inserts(dsn: str, *, concurrency: int, seconds: float, size: int) -> float:
    """Rows per second when each row is its own committed transaction."""
    offsets = itertools.count()
    body = "x" * size

    async def insert(conn: asyncpg.Connection) -> int:
        await conn.execute(INSERT_ONE, next(offsets), body)
        return 1

    return await _drive(dsn, insert, concurrency=concurrency, seconds=seconds)


async def batch_inserts(
    dsn: str, *, concurrency: int, seconds: float, size: int, batch: int
) -> float:
    """Rows per second when each transaction is one multi-row INSERT of ``batch`` rows."""
    starts = itertools.count(step=batch)
    bodies = ["x" * size] * batch

    async def insert(conn: asyncpg.Connection) -> int:
        start = next(starts)
        await conn.execute(INSERT_MANY, list(range(start, start + batch)), bodies)
        return batch

    return await _drive(dsn, insert, concurrency=concurrency, seconds=seconds)


async def _drive(
    dsn: str,
    insert: Callable[[asyncpg.Connection], Awaitable[int]],
    *,
    concurrency: int,
    seconds: float,
) -> float:
    """Run ``insert`` in a loop on ``concurrency`` connections for ``seconds``."""
    connections = [await asyncpg.connect(dsn) for _ in range(concurrency)]
    try:
        await connections[0].execute(f"DROP TABLE IF EXISTS {TABLE}; {CREATE}")
        deadline = time.monotonic() + seconds

        async def worker(conn: asyncpg.Connection) -> int:
            rows = 0
            while time.monotonic() < deadline:
                rows += await insert(conn)
            return rows

        started = time.monotonic()
        rows = sum(await asyncio.gather(*(worker(conn) for conn in connections)))
        elapsed = time.monotonic() - started
        await connections[0].execute(f"DROP TABLE {TABLE}")
        return rows / elapsed
    finally:
        for conn in connections:
            await conn.close()
