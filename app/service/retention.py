"""Retention: a background task that trims each limited topic's log from its head.

A pass moves the topic's ``first_offset`` past what its limits no longer keep (consumers
behind it skip ahead at their next read), then deletes the passed messages a batch per
transaction, so one large trim never holds locks or bloats a transaction for long.
Several server processes may run passes at once: the head only moves forward, and a
message deleted twice is simply not found the second time.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from app.domain import RetainedTopic
from app.storage import QueueRepository

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class RetentionEnforcer:
    def __init__(
        self,
        repository: QueueRepository,
        *,
        interval_s: float,
        batch_size: int,
        stop: asyncio.Event,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repo = repository
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._stop = stop
        self._clock = clock

    async def run(self) -> None:
        """Pass after pass until ``stop`` is set; a failed pass is logged and retried later."""
        while not self._stop.is_set():
            try:
                await self.enforce_once()
            except Exception:
                logger.exception("retention pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)

    async def enforce_once(self) -> int:
        """One pass over every topic with a limit; returns how many messages it deleted."""
        deleted = 0
        for topic in await self._repo.retained_topics():
            if self._stop.is_set():
                break
            deleted += await self._trim(topic)
        return deleted

    async def _trim(self, topic: RetainedTopic) -> int:
        head = await self._repo.advance_first_offset(topic.id, topic.retention, self._clock())
        deleted = 0
        while head is not None and not self._stop.is_set():
            batch = await self._repo.delete_below_first_offset(topic.id, self._batch_size)
            deleted += batch
            if batch < self._batch_size:
                break
        if deleted:
            logger.info(
                "retention deleted messages",
                extra={"topic": topic.name, "deleted": deleted, "first_offset": head},
            )
        return deleted
