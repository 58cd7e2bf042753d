"""Retention: a background task that trims each limited topic's log from its head, and
removes producers and consumers unused for longer than ``LOGQUEUE_IDLE_CLIENT_TTL``.

A pass moves the topic's ``first_offset`` past what its limits no longer keep (consumers
behind it skip ahead at their next read), then deletes the passed messages a batch per
transaction, so one large trim never holds locks or bloats a transaction for long.
Several server processes may run passes at once: the head only moves forward, and a
message deleted twice is simply not found the second time. What counts as unused is in
``app/service/idle_clients.py``.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from app.domain import RetainedTopic
from app.service.idle_clients import IdlePolicy, utc_now
from app.storage import QueueRepository

logger = logging.getLogger(__name__)


class RetentionEnforcer:
    def __init__(
        self,
        repository: QueueRepository,
        *,
        interval_s: float,
        batch_size: int,
        stop: asyncio.Event,
        idle: IdlePolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repo = repository
        self._idle = idle or IdlePolicy()
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._stop = stop
        self._clock = clock

    async def run(self) -> None:
        """Pass after pass until ``stop`` is set; a failed pass is logged and retried later."""
        while not self._stop.is_set():
            try:
                await self.enforce_once()
                await self.remove_idle_clients()
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

    async def remove_idle_clients(self) -> int:
        """Remove the producers and consumers unused for longer than the TTL, a batch per
        transaction; returns how many."""
        cutoff = self._idle.cutoff(self._clock())
        if cutoff is None:
            return 0
        removed = 0
        for remove in (self._repo.remove_idle_producers, self._repo.remove_idle_consumers):
            while not self._stop.is_set():
                batch = await remove(cutoff, self._batch_size)
                removed += batch
                if batch < self._batch_size:
                    break
        if removed:
            logger.info("retention removed idle clients", extra={"removed": removed})
        return removed

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
