"""Consumer-group rules: settings checks, leases as fencing tokens, long-poll fetches.

All group state lives in the database, so any server process serves any member; this
process only keeps the wake-ups its long polls wait on (shared with plain consumers: a
produce wakes both, locally or through LISTEN from another process).
"""

import asyncio
import logging
import secrets
from collections.abc import Sequence

from app.errors import (
    DeadLetterLoop,
    GroupNotFound,
    InvalidRequest,
    LeaseExpired,
    LeaseNotFound,
    OffsetsNotInLease,
    TopicNotFound,
)
from app.group_types import (
    Fetched,
    GroupDetails,
    GroupSettings,
    Settled,
    Start,
    parse_lease_id,
)
from app.logging import bind_log_fields
from app.service.wakeups import Wakeups
from app.storage.groups import Action, GroupRepository

logger = logging.getLogger(__name__)

TOKEN_BITS = 62


class GroupService:
    def __init__(self, repository: GroupRepository, wakeups: Wakeups, *, max_batch: int) -> None:
        self._repo = repository
        self._wakeups = wakeups
        self._max_batch = max_batch
        self._topic_ids: dict[str, int] = {}

    async def put_group(
        self, topic: str, group: str, settings: GroupSettings, start: Start, given: set[str]
    ) -> tuple[bool, GroupDetails]:
        """Create the group, or update the settings named in ``given``; True if created."""
        bind_log_fields(topic=topic, group=group)
        dead_letter = settings.dead_letter_topic
        if dead_letter is not None and "dead_letter_topic" in given:
            if dead_letter == topic:
                raise DeadLetterLoop(topic)
            if not await self._repo.topic_exists(dead_letter):
                raise TopicNotFound(dead_letter)
        keep = {"ack_wait_ms", "max_deliver", "dead_letter_topic"} - given
        outcome = await self._repo.put_group(topic, group, settings, start, keep)
        if outcome == "no_topic":
            raise TopicNotFound(topic)
        return outcome == "created", await self.details(topic, group)

    async def list_groups(self, topic: str) -> list[GroupDetails]:
        bind_log_fields(topic=topic)
        found = await self._repo.list_groups(topic)
        if found is None:
            raise TopicNotFound(topic)
        return found

    async def details(self, topic: str, group: str) -> GroupDetails:
        bind_log_fields(topic=topic, group=group)
        found = await self._repo.group_details(topic, group)
        if found is None:
            raise await self._missing(topic, group)
        return found

    async def delete_group(self, topic: str, group: str) -> None:
        bind_log_fields(topic=topic, group=group)
        if not await self._repo.delete_group(topic, group):
            raise await self._missing(topic, group)

    async def seek(self, topic: str, group: str, start: Start) -> GroupDetails:
        """Everything before the new position is finished, everything from it replayed."""
        bind_log_fields(topic=topic, group=group)
        topic_id = await self._repo.seek(topic, group, start)
        if topic_id is None:
            raise await self._missing(topic, group)
        self._wakeups.notify(topic_id)
        return await self.details(topic, group)

    async def fetch(
        self, topic: str, group: str, member: str, max_messages: int, wait_ms: int
    ) -> Fetched:
        """Lease up to ``max_messages``; with none deliverable, wait up to ``wait_ms`` for a
        produce, a nack, or the group's next expiry."""
        bind_log_fields(topic=topic, group=group, member=member)
        if max_messages > self._max_batch:
            raise InvalidRequest.for_field("max_messages", f"must be at most {self._max_batch}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_ms / 1000
        while True:
            # Take the topic's wake-up before reading, so a produce in between is not missed.
            known = self._topic_ids.get(topic)
            woken = None if known is None else self._wakeups.current(known)
            token = secrets.randbits(TOKEN_BITS) + 1
            found = await self._repo.fetch(topic, group, max_messages, token)
            if found is None:
                self._topic_ids.pop(topic, None)
                raise await self._missing(topic, group)
            self._topic_ids[topic] = found.topic_id
            self._wake(found.woken_topics)
            left = deadline - loop.time()
            if found.messages or left <= 0 or self._wakeups.closed:
                return found
            if woken is None or known != found.topic_id:
                continue  # first look at this topic: now the wake-up can be taken in order
            if found.due_ms is not None:
                left = min(left, max(found.due_ms - found.now_ms, 1) / 1000)
            await self._wakeups.wait(woken, left)

    async def settle(
        self,
        topic: str,
        group: str,
        lease_id: str,
        offsets: Sequence[int] | None,
        action: Action,
        delay_ms: int = 0,
    ) -> int:
        """Ack, nack or term messages of a live lease; returns how many."""
        bind_log_fields(topic=topic, group=group)
        lease = parse_lease_id(lease_id)
        if lease is None:
            raise LeaseNotFound(group)
        settled = await self._repo.settle(topic, group, lease, offsets, action, delay_ms)
        await self._check(settled, topic, group)
        self._wake(settled.woken_topics)
        return settled.count

    async def extend(self, topic: str, group: str, lease_id: str, ms: int | None) -> int:
        """Returns the lease's new expiry (epoch milliseconds)."""
        bind_log_fields(topic=topic, group=group)
        lease = parse_lease_id(lease_id)
        if lease is None:
            raise LeaseNotFound(group)
        settled = await self._repo.extend(topic, group, lease, ms)
        await self._check(settled, topic, group)
        return settled.expires_at_ms

    async def _check(self, settled: Settled, topic: str, group: str) -> None:
        if settled.outcome == "no_group":
            raise await self._missing(topic, group)
        if settled.outcome == "other_group":
            raise LeaseNotFound(group)
        if settled.outcome == "expired":
            raise LeaseExpired()
        if settled.outcome == "not_in_lease":
            raise OffsetsNotInLease()

    def _wake(self, topic_ids: Sequence[int]) -> None:
        for topic_id in topic_ids:
            self._wakeups.notify(topic_id)

    async def _missing(self, topic: str, group: str) -> TopicNotFound | GroupNotFound:
        """A missing topic is told apart from a missing group, as for consumers."""
        if not await self._repo.topic_exists(topic):
            return TopicNotFound(topic)
        return GroupNotFound(topic, group)
