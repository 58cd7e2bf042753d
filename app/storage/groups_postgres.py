"""The consumer-group hot paths on PostgreSQL, as asyncpg prepared statements.

A fetch of fresh messages and the ack of a whole lease are each one statement here (the
portable repository takes several); everything else, and every fetch that finds something
due for redelivery, goes through the portable SQL with the database's own clock.
"""

from collections.abc import Callable, Sequence

from sqlalchemy import BigInteger, ColumnElement, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain import EncodedMessages
from app.group_types import Fetched, Settled
from app.storage.groups import Action, GroupRepository
from app.storage.message_json import pg_json_array, pg_message_json
from app.storage.pools import DriverPool
from app.storage.postgres import NOTIFY_CHANNEL

# PostgreSQL hot paths, sent straight through asyncpg as the queue's are. ``$clock`` is the
# injected clock (tests) or NULL for the database's.
_PG_NOW = "COALESCE($5::bigint, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)"

# A fetch with nothing due for redelivery: lock the group row, move the cursor past up to
# $3 fresh messages and write one range row for them, in one statement that commits at once
# (the row lock, which every fetch of the group takes, is held for no more than that). No
# row comes back when anything is due, or nothing is fresh: the general path decides then.
_PG_LEASE_FRESH = f"""
    WITH clock AS (
        SELECT {_PG_NOW} AS now
    ), g AS (
        SELECT g.id, t.id AS topic_id, g.next_offset AS cursor,
               GREATEST(g.next_offset, t.first_offset) AS start, t.next_offset AS "end",
               clock.now + g.ack_wait_ms AS expires, clock.now
        FROM consumer_groups g JOIN topics t ON t.id = g.topic_id CROSS JOIN clock
        WHERE t.name = $1 AND g.name = $2
        FOR NO KEY UPDATE OF g
    ), advanced AS (
        UPDATE consumer_groups c
        SET next_offset = LEAST(g.start + $3, g."end"), skipped = c.skipped + g.start - g.cursor
        FROM g
        WHERE c.id = g.id AND g.start < g."end" AND NOT EXISTS (
            SELECT 1 FROM group_ranges r WHERE r.group_id = g.id AND r.expires_at <= g.now
        )
        RETURNING g.id, g.topic_id, g.start, c.next_offset AS stop, g.expires, g.now
    ), leased AS (
        INSERT INTO group_ranges (group_id, start, stop, lease, expires_at, delivery)
        SELECT id, start, stop, $4, expires, 1 FROM advanced
    )
    SELECT id, topic_id, start, stop, expires, now FROM advanced
"""

# The leased range's messages, read after the lease committed (no lock held meanwhile),
# as the JSON array the answer holds (``message_json``, as batch consume's): a first
# delivery each.
_PG_READ_RANGE = f"""
    SELECT count(*), {pg_json_array("json", '"offset"')} FROM (
        SELECT "offset", {pg_message_json('"offset"', "body", "produced_at", "1")} AS json
        FROM messages
        WHERE topic_id = $1 AND "offset" >= $2 AND "offset" < $3
    ) leased
"""

# Ack a whole lease: its live rows go and the group's count grows, in one statement.
_PG_ACK_ALL = f"""
    WITH g AS (
        SELECT g.id, {_PG_NOW} AS now
        FROM consumer_groups g JOIN topics t ON t.id = g.topic_id
        WHERE t.name = $1 AND g.name = $2
    ), done AS (
        DELETE FROM group_ranges r USING g
        WHERE r.group_id = g.id AND g.id = $3 AND r.lease = $4 AND r.expires_at > g.now
        RETURNING r.stop - r.start AS n
    ), counted AS (
        UPDATE consumer_groups c SET acked = c.acked + (SELECT sum(n) FROM done)
        WHERE c.id = $3 AND EXISTS (SELECT 1 FROM done)
    )
    SELECT (SELECT id FROM g), (SELECT count(*) FROM done), (SELECT COALESCE(sum(n), 0) FROM done)
"""


class PostgresGroupRepository(GroupRepository):
    """``notify_tag`` marks this process's notifications so its own listener skips them."""

    def __init__(
        self,
        engine: AsyncEngine,
        driver: DriverPool,
        notify_tag: str = "",
        clock: Callable[[], int] | None = None,
    ) -> None:
        super().__init__(engine, clock)
        self._driver = driver.connection
        self._notify_tag = notify_tag

    def _now(self) -> ColumnElement[int]:
        """The database's clock, one for every server process (unless a test injects one)."""
        if self._clock is not None:
            return literal(self._clock(), BigInteger)
        epoch = func.extract("epoch", func.clock_timestamp())
        return cast(func.floor(epoch * 1000), BigInteger)

    async def _notify(self, conn: AsyncConnection, topic_ids: Sequence[int]) -> None:
        """Wake long polls of other processes, at commit (LISTEN only delivers committed)."""
        for topic_id in topic_ids:
            payload = f"{topic_id}:{self._notify_tag}"
            await conn.execute(select(func.pg_notify(NOTIFY_CHANNEL, payload)))

    async def fetch(self, topic: str, group: str, max_messages: int, token: int) -> Fetched | None:
        return await self._fetch_fresh(topic, group, max_messages, token) or await super().fetch(
            topic, group, max_messages, token
        )

    async def _fetch_fresh(
        self, topic: str, group: str, max_messages: int, token: int
    ) -> Fetched | None:
        """The common fetch in one round trip; None when the general path must decide."""
        clock = None if self._clock is None else self._clock()
        async with self._driver() as driver:
            leased = await driver.fetchrow(
                _PG_LEASE_FRESH, topic, group, max_messages, token, clock
            )
            if leased is None:
                return None
            group_id, topic_id, start, stop, expires, now = leased
            encoded = await driver.fetchrow(_PG_READ_RANGE, topic_id, start, stop)
        assert encoded is not None  # an aggregate answers one row
        return Fetched(
            topic_id=topic_id,
            group_id=group_id,
            token=token,
            expires_at_ms=expires,
            messages=EncodedMessages(*encoded),
            now_ms=now,
            due_ms=None,
            woken_topics=[],
        )

    async def settle(
        self,
        topic: str,
        group: str,
        lease: tuple[int, int],
        offsets: Sequence[int] | None,
        action: Action,
        delay_ms: int = 0,
    ) -> Settled:
        if action == "ack" and offsets is None:
            return await self._ack_all_at_once(topic, group, lease)
        return await super().settle(topic, group, lease, offsets, action, delay_ms)

    async def _ack_all_at_once(self, topic: str, group: str, lease: tuple[int, int]) -> Settled:
        clock = None if self._clock is None else self._clock()
        async with self._driver() as driver:
            found = await driver.fetchrow(_PG_ACK_ALL, topic, group, lease[0], lease[1], clock)
        assert found is not None  # an aggregate query always answers one row
        group_id, rows, acked = found
        if group_id is None:
            return Settled("no_group")
        if group_id != lease[0]:
            return Settled("other_group")
        return Settled("ok", acked) if rows else Settled("expired")
