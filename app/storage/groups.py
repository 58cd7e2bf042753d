"""SQL for consumer groups, portable (it serves SQLite; ``groups_postgres`` adds the
PostgreSQL hot paths).

Leases are ranges, not rows per message: a fetch writes one ``group_ranges`` row for the
fresh messages it hands out, whatever their number, and an ack of a whole lease deletes
its rows in one statement. Expired or nacked ranges are reclaimed with ``FOR UPDATE SKIP
LOCKED``, so members fetching at once take different ranges instead of waiting on each
other; only the group row's cursor (``next_offset``) is taken in turn, as a consumer's
offset is. Every expiry is judged by the database's clock, in epoch milliseconds.
"""

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.group_types import (
    DeadLetter,
    DeathReason,
    Fetched,
    GroupDetails,
    GroupSettings,
    LeasedMessage,
    Settled,
    Start,
)
from app.models import ConsumerGroup, GroupRange
from app.storage.failures import unavailable_as_domain_error
from app.storage.group_spans import Span, carve, clip, delivery_of
from app.storage.message_json import encode_leased
from app.storage.repository import messages, topics

groups = ConsumerGroup.__table__
ranges = GroupRange.__table__

# The id dead letters are stored under: no producer registers with it (ids start at 1).
DEAD_LETTER_PRODUCER = 0

Action = Literal["ack", "nack", "term"]


@dataclass(frozen=True, slots=True)
class _Group:
    """A group row with its topic's bounds and the database clock, read in one query."""

    id: int
    topic: str
    name: str
    ack_wait_ms: int
    max_deliver: int
    dead_letter_topic: str | None
    topic_id: int
    first_offset: int
    end: int
    now: int


@dataclass
class _Changes:
    """Counter increments of one transaction, written to the group row once."""

    acked: int = 0
    redelivered: int = 0
    dead_lettered: int = 0
    skipped: int = 0

    def values(self) -> dict[str, ColumnElement[int]]:
        return {
            name: getattr(groups.c, name) + amount
            for name in ("acked", "redelivered", "dead_lettered", "skipped")
            if (amount := getattr(self, name))
        }


class GroupRepository:
    """The portable group repository: SQLAlchemy Core only, so it runs on any backend (and
    serves SQLite, whose one process needs no cross-process wake-ups)."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], int] | None = None) -> None:
        """``clock`` (epoch ms) replaces the database's, for tests that move time by hand."""
        self._engine = engine
        self._clock = clock

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[AsyncConnection]:
        with unavailable_as_domain_error():
            async with self._engine.begin() as conn:
                yield conn

    def _now(self) -> ColumnElement[int]:
        """Epoch milliseconds, the injected clock's or this process's: SQLite serves one
        process, whose clock is the database's."""
        return literal(self._clock() if self._clock else int(time.time() * 1000), BigInteger)

    async def _notify(self, conn: AsyncConnection, topic_ids: Sequence[int]) -> None:
        """Wake long polls of other server processes; one process has none to wake."""

    async def _group(self, conn: AsyncConnection, topic: str, group: str) -> _Group | None:
        row = (
            await conn.execute(
                select(
                    groups.c.id,
                    groups.c.ack_wait_ms,
                    groups.c.max_deliver,
                    groups.c.dead_letter_topic,
                    topics.c.id,
                    topics.c.first_offset,
                    topics.c.next_offset,
                    self._now(),
                )
                .select_from(groups.join(topics, topics.c.id == groups.c.topic_id))
                .where(topics.c.name == topic, groups.c.name == group)
            )
        ).first()
        if row is None:
            return None
        gid, wait, max_deliver, dlt, tid, first, end, now = row
        return _Group(gid, topic, group, wait, max_deliver, dlt, tid, first, end, now)

    # -- groups ---------------------------------------------------------------------------

    async def topic_exists(self, topic: str) -> bool:
        async with self._begin() as conn:
            found = await conn.scalar(select(topics.c.id).where(topics.c.name == topic))
        return found is not None

    async def put_group(
        self, topic: str, group: str, settings: GroupSettings, start: Start, keep: set[str]
    ) -> Literal["created", "updated", "no_topic"]:
        """Create the group at ``start``, or update its settings (all but those in ``keep``).

        A create racing another create of the same name falls back to an update.
        """
        changes = {
            name: getattr(settings, name)
            for name in ("ack_wait_ms", "max_deliver", "dead_letter_topic")
            if name not in keep
        }
        for _attempt in range(2):
            async with self._begin() as conn:
                topic_row = (
                    await conn.execute(
                        select(topics.c.id, topics.c.first_offset, topics.c.next_offset).where(
                            topics.c.name == topic
                        )
                    )
                ).first()
                if topic_row is None:
                    return "no_topic"
                topic_id, first, end = topic_row
                existing = await conn.scalar(
                    select(groups.c.id).where(groups.c.topic_id == topic_id, groups.c.name == group)
                )
                if existing is not None:
                    if changes:
                        await conn.execute(
                            update(groups).where(groups.c.id == existing).values(**changes)
                        )
                    return "updated"
                position = await _position(conn, topic_id, first, end, start)
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            insert(groups).values(
                                topic_id=topic_id,
                                name=group,
                                next_offset=position,
                                ack_wait_ms=settings.ack_wait_ms,
                                max_deliver=settings.max_deliver,
                                dead_letter_topic=settings.dead_letter_topic,
                            )
                        )
                except IntegrityError:
                    continue
                return "created"
        return "updated"

    async def list_groups(self, topic: str) -> list[GroupDetails] | None:
        """Every group of the topic in creation order; None if the topic does not exist."""
        async with self._begin() as conn:
            topic_id = await conn.scalar(select(topics.c.id).where(topics.c.name == topic))
            if topic_id is None:
                return None
            return await self._details(conn, topic, topics.c.id == topic_id)

    async def group_details(self, topic: str, group: str) -> GroupDetails | None:
        async with self._begin() as conn:
            found = await self._details(
                conn, topic, and_(topics.c.name == topic, groups.c.name == group)
            )
        return found[0] if found else None

    async def _details(
        self, conn: AsyncConnection, topic: str, where: ColumnElement[bool]
    ) -> list[GroupDetails]:
        """Counts over the few range rows of each group, clipped to what retention keeps."""
        now = self._now().label("now")
        live = and_(ranges.c.lease.is_not(None), ranges.c.expires_at > now)
        pending = (
            select(func.coalesce(func.sum(case((live, _kept()), else_=0)), 0))
            .where(ranges.c.group_id == groups.c.id)
            .correlate(groups, topics)
            .scalar_subquery()
        )
        cursor = _cursor()
        rows = await conn.execute(
            select(
                groups.c.name,
                groups.c.ack_wait_ms,
                groups.c.max_deliver,
                groups.c.dead_letter_topic,
                cursor,
                pending,
                groups.c.acked,
                groups.c.redelivered,
                groups.c.dead_lettered,
                groups.c.skipped,
                group_lag(),
                groups.c.created_at,
            )
            .select_from(groups.join(topics, topics.c.id == groups.c.topic_id))
            .where(where)
            .order_by(groups.c.id)
        )
        return [
            GroupDetails(
                topic=topic,
                name=name,
                settings=GroupSettings(wait, max_deliver, dlt),
                next_offset=position,
                pending=pending_count,
                acked=acked,
                redelivered=redelivered,
                dead_lettered=dead,
                skipped=skipped,
                lag=lag,
                created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
            )
            for (
                name,
                wait,
                max_deliver,
                dlt,
                position,
                pending_count,
                acked,
                redelivered,
                dead,
                skipped,
                lag,
                created,
            ) in rows
        ]

    async def delete_group(self, topic: str, group: str) -> bool:
        async with self._begin() as conn:
            found = await self._group(conn, topic, group)
            if found is None:
                return False
            await conn.execute(delete(ranges).where(ranges.c.group_id == found.id))
            await conn.execute(delete(groups).where(groups.c.id == found.id))
        return True

    async def seek(self, topic: str, group: str, start: Start) -> int | None:
        """Move the cursor; every range row goes (finished before it, replayed from it).

        Returns the topic id to wake, or None if there is no such group.
        """
        async with self._begin() as conn:
            found = await self._group(conn, topic, group)
            if found is None:
                return None
            position = await _position(conn, found.topic_id, found.first_offset, found.end, start)
            await conn.execute(delete(ranges).where(ranges.c.group_id == found.id))
            await conn.execute(
                update(groups).where(groups.c.id == found.id).values(next_offset=position)
            )
            await self._notify(conn, [found.topic_id])
        return found.topic_id

    # -- leases ---------------------------------------------------------------------------

    async def fetch(self, topic: str, group: str, max_messages: int, token: int) -> Fetched | None:
        """Lease up to ``max_messages`` under ``token``: expired or nacked ranges first
        (in offset order), then fresh messages from the cursor. None: no such group."""
        async with self._begin() as conn:
            found = await self._group(conn, topic, group)
            if found is None:
                return None
            changes = _Changes()
            leased, kept, removed, dead = await self._reclaim(conn, found, max_messages, changes)
            room = max_messages - sum(s.size for s in leased)
            if room > 0:
                fresh = await self._advance(conn, found, room, changes)
                if fresh is not None:
                    leased.append(replace(fresh, lease=token))
            expires = found.now + found.ack_wait_ms
            leased = [replace(s, lease=token, expires_at=expires) for s in leased]
            if removed:
                await conn.execute(
                    delete(ranges).where(ranges.c.group_id == found.id, ranges.c.start.in_(removed))
                )
            if leased or kept:
                await conn.execute(insert(ranges), [_row(found.id, s) for s in leased + kept])
            woken = await self._dead_letter(conn, found, dead, changes)
            if changes.values():
                await conn.execute(
                    update(groups).where(groups.c.id == found.id).values(**changes.values())
                )
            await self._notify(conn, woken)
            bodies = await _read(conn, found.topic_id, leased)
            due = None
            if not leased:
                due = await conn.scalar(
                    select(func.min(ranges.c.expires_at)).where(ranges.c.group_id == found.id)
                )
        return Fetched(
            topic_id=found.topic_id,
            group_id=found.id,
            token=token if leased else None,
            expires_at_ms=expires,
            messages=encode_leased(
                [
                    LeasedMessage(offset, body, at, delivery_of(leased, offset))
                    for offset, body, at in bodies
                ]
            ),
            now_ms=found.now,
            due_ms=due,
            woken_topics=woken,
        )

    async def _reclaim(
        self, conn: AsyncConnection, found: _Group, max_messages: int, changes: _Changes
    ) -> tuple[list[Span], list[Span], list[int], list[tuple[Span, DeathReason]]]:
        """Take due ranges (expired leases, nacks whose delay passed) in offset order.

        Returns the spans to lease again, the untaken rests to write back, the row starts
        to delete and the spans delivered ``max_deliver`` times (now dead).
        """
        leased: list[Span] = []
        kept: list[Span] = []
        removed: list[int] = []
        dead: list[tuple[Span, DeathReason]] = []
        room = max_messages
        after = -1
        # Pages of due rows: dead and retention-removed ones take no room, so one page of
        # ``max_messages`` rows may not fill the lease.
        while room > 0:
            rows = (
                await conn.execute(
                    select(
                        ranges.c.start,
                        ranges.c.stop,
                        ranges.c.lease,
                        ranges.c.expires_at,
                        ranges.c.delivery,
                    )
                    .where(
                        ranges.c.group_id == found.id,
                        ranges.c.expires_at <= found.now,
                        ranges.c.start > after,
                    )
                    .order_by(ranges.c.start)
                    .limit(max_messages)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                if room == 0:
                    break
                after = row.start
                removed.append(row.start)
                span, lost = clip(Span(*row), found.first_offset)
                changes.skipped += lost
                if span is None:
                    continue
                if span.delivery >= found.max_deliver:
                    dead.append((span, "max_deliver"))
                    continue
                take = min(room, span.size)
                leased.append(replace(span, stop=span.start + take, delivery=span.delivery + 1))
                if take < span.size:
                    kept.append(replace(span, start=span.start + take))
                changes.redelivered += take
                room -= take
            if len(rows) < max_messages:
                break
        return leased, kept, removed, dead

    async def _advance(
        self, conn: AsyncConnection, found: _Group, room: int, changes: _Changes
    ) -> Span | None:
        """Move the cursor past up to ``room`` fresh messages, under the group row's lock."""
        cursor = await conn.scalar(
            select(groups.c.next_offset)
            .where(groups.c.id == found.id)
            .with_for_update(key_share=True)
        )
        end = await conn.scalar(select(topics.c.next_offset).where(topics.c.id == found.topic_id))
        if cursor is None or end is None:
            return None
        start = max(cursor, found.first_offset)
        if start >= end:
            return None
        changes.skipped += start - cursor
        stop = min(start + room, end)
        await conn.execute(update(groups).where(groups.c.id == found.id).values(next_offset=stop))
        return Span(start, stop, None, 0, 1)

    async def _dead_letter(
        self,
        conn: AsyncConnection,
        found: _Group,
        dead: Sequence[tuple[Span, DeathReason]],
        changes: _Changes,
    ) -> list[int]:
        """Finish ``dead`` spans: counted, and appended to the dead-letter topic if the
        group has one (in this transaction, so each lands there exactly once). Returns the
        topics to wake."""
        changes.dead_lettered += sum(span.size for span, _ in dead)
        if not dead or found.dead_letter_topic is None:
            return []
        target = await conn.scalar(
            select(topics.c.id).where(topics.c.name == found.dead_letter_topic)
        )
        if target is None:  # deleted since it was set: the messages are still finished
            return []
        letters = []
        for offset, body, at in await _read(conn, found.topic_id, [span for span, _ in dead]):
            span, reason = next((s, r) for s, r in dead if s.start <= offset < s.stop)
            letter = DeadLetter(found.topic, found.name, offset, span.delivery, reason, body, at)
            letters.append(letter.envelope())
        if not letters:
            return []
        await _append(conn, target, letters)
        return [target]

    async def settle(
        self,
        topic: str,
        group: str,
        lease: tuple[int, int],
        offsets: Sequence[int] | None,
        action: Action,
        delay_ms: int = 0,
    ) -> Settled:
        """Ack, nack or term the lease's messages (all, or ``offsets``), atomically.

        Refused, changing nothing, when the lease has expired or does not hold every offset.
        """
        async with self._begin() as conn:
            found = await self._group(conn, topic, group)
            if found is None:
                return Settled("no_group")
            if lease[0] != found.id:
                return Settled("other_group")
            if action == "ack" and offsets is None:
                return await self._ack_all(conn, found, lease[1])
            rows = [
                Span(*row)
                for row in await conn.execute(
                    select(
                        ranges.c.start,
                        ranges.c.stop,
                        ranges.c.lease,
                        ranges.c.expires_at,
                        ranges.c.delivery,
                    )
                    .where(ranges.c.group_id == found.id, ranges.c.lease == lease[1])
                    .with_for_update()
                )
            ]
            if not rows or any(s.expires_at <= found.now for s in rows):
                return Settled("expired")
            carved = carve(rows, offsets) if offsets is not None else (rows, [])
            if carved is None:
                return Settled("not_in_lease")
            chosen, rest = carved
            changes = _Changes()
            back: list[Span] = []
            dead: list[tuple[Span, DeathReason]] = []
            if action == "ack":
                changes.acked += sum(s.size for s in chosen)
            elif action == "term":
                dead = [(s, "term") for s in chosen]
            else:
                for span in chosen:
                    if span.delivery >= found.max_deliver:
                        dead.append((span, "max_deliver"))
                    else:
                        back.append(replace(span, lease=None, expires_at=found.now + delay_ms))
            await conn.execute(
                delete(ranges).where(ranges.c.group_id == found.id, ranges.c.lease == lease[1])
            )
            if rest or back:
                await conn.execute(insert(ranges), [_row(found.id, s) for s in rest + back])
            woken = await self._dead_letter(conn, found, dead, changes)
            if back and delay_ms == 0:
                woken.append(found.topic_id)
            if changes.values():
                await conn.execute(
                    update(groups).where(groups.c.id == found.id).values(**changes.values())
                )
            await self._notify(conn, woken)
        return Settled("ok", sum(s.size for s in chosen), woken_topics=tuple(woken))

    async def _ack_all(self, conn: AsyncConnection, found: _Group, token: int) -> Settled:
        """A whole lease in one statement: its live rows go, and the count with them."""
        done = (
            await conn.execute(
                delete(ranges)
                .where(
                    ranges.c.group_id == found.id,
                    ranges.c.lease == token,
                    ranges.c.expires_at > found.now,
                )
                .returning(ranges.c.stop - ranges.c.start)
            )
        ).all()
        if not done:
            return Settled("expired")
        acked = sum(n for (n,) in done)
        await conn.execute(
            update(groups).where(groups.c.id == found.id).values(acked=groups.c.acked + acked)
        )
        return Settled("ok", acked)

    async def extend(
        self, topic: str, group: str, lease: tuple[int, int], ms: int | None
    ) -> Settled:
        """Push the live lease's expiry to ``ms`` (default: the group's ack wait) from now."""
        async with self._begin() as conn:
            found = await self._group(conn, topic, group)
            if found is None:
                return Settled("no_group")
            if lease[0] != found.id:
                return Settled("other_group")
            expires = found.now + (found.ack_wait_ms if ms is None else ms)
            result = await conn.execute(
                update(ranges)
                .where(
                    ranges.c.group_id == found.id,
                    ranges.c.lease == lease[1],
                    ranges.c.expires_at > found.now,
                )
                .values(expires_at=expires)
            )
            if result.rowcount == 0:
                return Settled("expired")
        return Settled("ok", expires_at_ms=expires)


def _row(group_id: int, span: Span) -> dict[str, int | None]:
    return {
        "group_id": group_id,
        "start": span.start,
        "stop": span.stop,
        "lease": span.lease,
        "expires_at": span.expires_at,
        "delivery": span.delivery,
    }


async def _read(
    conn: AsyncConnection, topic_id: int, spans: Sequence[Span]
) -> list[tuple[int, str, datetime]]:
    """The stored messages of ``spans`` in offset order (retention may have removed some)."""
    if not spans:
        return []
    within = or_(*(and_(messages.c.offset >= s.start, messages.c.offset < s.stop) for s in spans))
    rows = await conn.execute(
        select(messages.c.offset, messages.c.body, messages.c.produced_at)
        .where(messages.c.topic_id == topic_id, within)
        .order_by(messages.c.offset)
    )
    # SQLite keeps no zone; every timestamp was written in UTC.
    return [(o, b, t if t.tzinfo else t.replace(tzinfo=UTC)) for o, b, t in rows]


async def _position(
    conn: AsyncConnection, topic_id: int, first: int, end: int, start: Start
) -> int:
    """The offset ``start`` names, within what the topic keeps."""
    if start.kind == "earliest":
        return first
    if start.kind == "latest":
        return end
    if start.kind == "offset":
        return min(max(start.offset, first), end)
    found = await conn.scalar(
        select(func.min(messages.c.offset)).where(
            messages.c.topic_id == topic_id,
            messages.c.offset >= first,
            messages.c.produced_at >= start.time,
        )
    )
    return end if found is None else found


async def _append(conn: AsyncConnection, topic_id: int, bodies: Sequence[str]) -> None:
    """Append ``bodies`` to a topic inside the caller's transaction: offsets reserved on the
    topic row (which holds its lock until commit), as every produce reserves them."""
    end = await conn.scalar(
        update(topics)
        .where(topics.c.id == topic_id)
        .values(next_offset=topics.c.next_offset + len(bodies))
        .returning(topics.c.next_offset)
    )
    if end is None:
        return
    now = datetime.now(UTC)
    first = end - len(bodies)
    await conn.execute(
        insert(messages),
        [
            {
                "topic_id": topic_id,
                "offset": first + i,
                "body": body,
                "produced_at": now,
                "producer_id": DEAD_LETTER_PRODUCER,
            }
            for i, body in enumerate(bodies)
        ],
    )


def group_lag() -> ColumnElement[int]:
    """Messages produced and not yet finished by a group (never delivered, or out on a
    lease or waiting for redelivery), as far as retention kept them; for a query that joins
    groups to their topic."""
    unfinished = (
        select(func.coalesce(func.sum(_kept()), 0))
        .where(ranges.c.group_id == groups.c.id)
        .correlate(groups, topics)
        .scalar_subquery()
    )
    return topics.c.next_offset - _cursor() + unfinished


def _cursor() -> ColumnElement[int]:
    """The group's first never-delivered offset, or the first kept one if retention passed it."""
    return case(
        (groups.c.next_offset < topics.c.first_offset, topics.c.first_offset),
        else_=groups.c.next_offset,
    )


def _kept() -> ColumnElement[int]:
    """How many of a range row's messages retention kept."""
    kept_start = case(
        (ranges.c.start < topics.c.first_offset, topics.c.first_offset),
        else_=ranges.c.start,
    )
    return case((ranges.c.stop > kept_start, ranges.c.stop - kept_start), else_=0)
