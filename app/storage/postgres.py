"""PostgreSQL's hot paths: produce and consume as one prepared statement each.

They go straight through an asyncpg connection from asyncpg's own pool (``pools.py``):
with asyncpg's prepared-statement cache a produce or consume costs about 0.1 ms of CPU,
where SQLAlchemy's execution layer cost about 1 ms (measured with py-spy under `make
bench`). Everything else is inherited from the portable repository.
"""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain import AppendOutcome, AppendRequest, EncodedMessages, StoredMessage
from app.storage.capped import pg_capped_range
from app.storage.message_json import pg_json_array, pg_message_json
from app.storage.pools import DriverPool
from app.storage.repository import QueueRepository

NOTIFY_CHANNEL = "logqueue_produced"

# A group of produce requests in one statement, in its own implicit transaction: one round
# trip however many producers share it. Per request ($2 producer, $3 sequence or NULL,
# $4 message count) the producer's last sequence is judged, exactly as ``judge_sequence``
# does; the stored requests get consecutive offsets in request order, their messages ($6,
# with $7 the ordinal of each one's request) are inserted, their producers' rows move on,
# and other processes are notified. The topic row is locked before any producer row ($5:
# the sequenced producers), the order deleting a topic takes them; ``topic`` is gated into
# both ``held`` and ``reserved`` as a one-time filter so that it is evaluated (and locked)
# first, and materialised so that it is never locked twice.
_PG_APPEND = """
    WITH topic AS MATERIALIZED (
        SELECT id FROM topics WHERE id = $1 FOR NO KEY UPDATE
    ), held AS MATERIALIZED (
        SELECT p.id, p.last_sequence, p.last_first, p.last_count
        FROM producers p
        WHERE p.id = ANY($5::bigint[]) AND EXISTS (SELECT FROM topic)
        ORDER BY p.id
        FOR NO KEY UPDATE OF p
    ), judged AS (
        SELECT r.ord, r.producer_id, r.sequence, r.n, h.last_first, h.last_count,
            COALESCE(h.last_sequence + 1, 0) AS expected,
            CASE
                WHEN r.sequence IS NULL THEN 'stored'
                WHEN h.id IS NULL THEN 'no_producer'
                WHEN r.sequence = h.last_sequence THEN 'duplicate'
                WHEN r.sequence = COALESCE(h.last_sequence + 1, 0) THEN 'stored'
                ELSE 'out_of_order'
            END AS outcome
        FROM unnest($2::bigint[], $3::bigint[], $4::int[])
            WITH ORDINALITY AS r(producer_id, sequence, n, ord)
        LEFT JOIN held h ON h.id = r.producer_id AND r.sequence IS NOT NULL
    ), counted AS (
        SELECT j.*,
            COALESCE(sum(j.n) OVER earlier, 0) AS skip,
            COALESCE(sum(j.n) FILTER (WHERE j.outcome = 'stored') OVER earlier, 0) AS before
        FROM judged j
        WINDOW earlier AS (ORDER BY j.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ), reserved AS (
        UPDATE topics t SET next_offset = t.next_offset + s.total
        FROM (SELECT sum(n) FILTER (WHERE outcome = 'stored') AS total FROM judged) s
        WHERE t.id = $1 AND s.total > 0 AND EXISTS (SELECT FROM topic)
        RETURNING t.next_offset - s.total AS first
    ), placed AS (
        SELECT c.*, reserved.first + c.before AS first
        FROM counted c LEFT JOIN reserved ON c.outcome = 'stored'
    ), inserted AS (
        INSERT INTO messages (topic_id, "offset", body, produced_at, producer_id)
        SELECT $1, p.first + m.ord - 1 - p.skip, m.body, now(), p.producer_id
        FROM unnest($6::text[], $7::int[]) WITH ORDINALITY AS m(body, request, ord)
        JOIN placed p ON p.ord = m.request
        WHERE p.first IS NOT NULL
    ), moved AS (
        UPDATE producers pr
        SET last_sequence = p.sequence, last_first = p.first, last_count = p.n
        FROM placed p
        WHERE pr.id = p.producer_id AND p.sequence IS NOT NULL AND p.first IS NOT NULL
    ), notified AS (
        SELECT pg_notify($8, $9) FROM reserved
    )
    SELECT p.outcome,
        CASE p.outcome WHEN 'stored' THEN p.first WHEN 'duplicate' THEN p.last_first END,
        CASE p.outcome WHEN 'stored' THEN p.n WHEN 'duplicate' THEN p.last_count END,
        p.expected,
        EXISTS (SELECT FROM topic) AS found
    FROM placed p LEFT JOIN notified ON true
    ORDER BY p.ord
"""

# Lock the consumer, read what it may take and advance it past that, in one statement. The
# locked ``old`` row carries the consumer's start (a consumer behind the retained start,
# first_offset, skips ahead to it); the batch is cut by count and by bytes in SQL
# (``pg_capped_range``). The read is a LATERAL subquery so that even the generic plan of
# the prepared statement walks the primary-key index from ``start`` (a plain join scanned
# the topic's whole log: 306 ms instead of 0.5 ms per call on a topic of 1,000,000
# messages). Both reads answer no row at all when the consumer is gone (the advancing one
# answers a row of NULLs when there is nothing new).
_PG_LOCK_CONSUMER = """
    WITH old AS (
        SELECT c.id, GREATEST(c."offset", t.first_offset) AS start, t.next_offset AS "end"
        FROM consumers c JOIN topics t ON t.id = c.topic_id
        WHERE c.id = $2 AND c.topic_id = $1
        FOR UPDATE OF c
    )"""
_PG_CAPPED_UNREAD = pg_capped_range("$1", "old.start", 'LEAST(old.start + $3, old."end")', "$4")
_PG_ADVANCE_AND_READ = f"""
    {_PG_LOCK_CONSUMER}, batch AS (
        SELECT m."offset", m.body, m.produced_at
        FROM old CROSS JOIN LATERAL ({_PG_CAPPED_UNREAD}) m
    ), advanced AS (
        UPDATE consumers c SET "offset" = (SELECT max("offset") + 1 FROM batch)
        FROM old
        WHERE c.id = old.id AND EXISTS (SELECT FROM batch)
    )
    SELECT b."offset", b.body, b.produced_at FROM old LEFT JOIN batch b ON true
    ORDER BY b."offset"
"""

# The same read and advance for a batch consume, answered as one row: the number of
# messages and their JSON array, built by PostgreSQL (``message_json``). Encoding costs the
# database about 1.5 us a message and saves the server, which answers every consumer from
# one process, 4-5 us: asyncpg's records, ``StoredMessage``s, dicts and orjson.
_PG_ADVANCE_AND_ENCODE = f"""
    {_PG_LOCK_CONSUMER}, batch AS (
        SELECT m."offset", {pg_message_json('m."offset"', "m.body", "m.produced_at")} AS json
        FROM old CROSS JOIN LATERAL ({_PG_CAPPED_UNREAD}) m
    ), encoded AS (
        SELECT count(*) AS n, max("offset") AS last, {pg_json_array("json", '"offset"')} AS json
        FROM batch
    ), advanced AS (
        UPDATE consumers c SET "offset" = encoded.last + 1
        FROM old, encoded
        WHERE c.id = old.id AND encoded.n > 0
    )
    SELECT encoded.n, encoded.json FROM encoded, old
"""


class PostgresRepository(QueueRepository):
    """``notify_tag`` marks this process's notifications so its own listener skips them."""

    def __init__(self, engine: AsyncEngine, driver: DriverPool, notify_tag: str = "") -> None:
        super().__init__(engine)
        self._driver = driver.connection
        self._notify_tag = notify_tag

    async def _deleted(self, conn: AsyncConnection, topic_id: int) -> None:
        """Wake the topic's long polls in other processes: they find their consumer gone."""
        await conn.execute(select(func.pg_notify(NOTIFY_CHANNEL, f"{topic_id}:{self._notify_tag}")))

    async def append(
        self, topic_id: int, requests: Sequence[AppendRequest]
    ) -> list[AppendOutcome] | None:
        async with self._driver() as driver:
            rows = await driver.fetch(
                _PG_APPEND,
                topic_id,
                [r.producer_id for r in requests],
                [r.sequence for r in requests],
                [len(r.bodies) for r in requests],
                sorted({r.producer_id for r in requests if r.sequence is not None}),
                [body for r in requests for body in r.bodies],
                [i for i, r in enumerate(requests, start=1) for _ in r.bodies],
                NOTIFY_CHANNEL,
                f"{topic_id}:{self._notify_tag}",
            )
        if not rows[0]["found"]:
            return None
        return [
            AppendOutcome(outcome, first or 0, count or 0, expected)
            for outcome, first, count, expected, _ in rows
        ]

    async def read_next(
        self, topic_id: int, consumer_id: int, max_messages: int, max_bytes: int
    ) -> list[StoredMessage] | None:
        async with self._driver() as driver:
            rows = await driver.fetch(
                _PG_ADVANCE_AND_READ, topic_id, consumer_id, max_messages, max_bytes
            )
        if not rows:
            return None
        return [StoredMessage(*r) for r in rows if r[0] is not None]

    async def read_next_encoded(
        self, topic_id: int, consumer_id: int, max_messages: int, max_bytes: int
    ) -> EncodedMessages | None:
        async with self._driver() as driver:
            row = await driver.fetchrow(
                _PG_ADVANCE_AND_ENCODE, topic_id, consumer_id, max_messages, max_bytes
            )
        return None if row is None else EncodedMessages(row[0], row[1])
