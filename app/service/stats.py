"""The console's figures: topics at a glance and their produce and consume rates.

Rates are counted from the database, not from one process's metrics: every process samples
each topic's counters (its next offset, the sum of its consumers' offsets) on the same time
grid into ``throughput_samples``, the first writer of a slot wins, and a rate is the
difference of two samples over their time apart. So it is right with any number of server
processes, and survives restarts.
"""

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.errors import TopicNotFound
from app.storage.stats import Sample, StatsRepository, TopicSummary

logger = logging.getLogger(__name__)

# How far back the rates go.
RATE_WINDOW_S = 600


@dataclass(frozen=True, slots=True)
class RatePoint:
    """Messages per second between the previous sample and ``at``."""

    at: datetime
    produced_per_s: float
    consumed_per_s: float


@dataclass(frozen=True, slots=True)
class TopicStats:
    summary: TopicSummary
    rates: list[RatePoint]


class ThroughputStats:
    def __init__(
        self,
        repository: StatsRepository,
        *,
        interval_s: float,
        stop: asyncio.Event,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repo = repository
        self.interval_s = interval_s
        self._interval_ms = max(1, round(interval_s * 1000))
        self._stop = stop
        self._clock = clock

    async def run(self) -> None:
        """Sample on the grid until ``stop`` is set; a failed sample is logged, not fatal."""
        while not self._stop.is_set():
            try:
                await self.sample_once()
            except Exception:
                logger.exception("throughput sample failed")
            now_ms = self._now_ms()
            pause = (self._interval_ms - now_ms % self._interval_ms) / 1000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)

    async def sample_once(self) -> None:
        slot = self._now_ms() // self._interval_ms * self._interval_ms
        await self._repo.record_samples(slot, keep_from_ms=slot - (RATE_WINDOW_S + 60) * 1000)

    async def all_topics(self) -> list[TopicStats]:
        summaries = await self._repo.topic_summaries()
        found = await self._repo.samples(self._since_ms())
        by_topic: dict[int, list[Sample]] = {}
        for sample in found:
            by_topic.setdefault(sample.topic_id, []).append(sample)
        return [TopicStats(s, _rates(by_topic.get(s.id, []))) for s in summaries]

    async def topic(self, name: str) -> TopicStats:
        summaries = await self._repo.topic_summaries(name)
        if not summaries:
            raise TopicNotFound(name)
        summary = summaries[0]
        return TopicStats(summary, _rates(await self._repo.samples(self._since_ms(), summary.id)))

    def _since_ms(self) -> int:
        return self._now_ms() - RATE_WINDOW_S * 1000

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def _rates(samples: Sequence[Sample]) -> list[RatePoint]:
    """Rates between consecutive samples (oldest first); counters never run backwards, a
    drop (a topic deleted and made again meanwhile) counts as nothing."""
    points = []
    for before, after in itertools.pairwise(samples):
        seconds = (after.sampled_ms - before.sampled_ms) / 1000
        points.append(
            RatePoint(
                at=datetime.fromtimestamp(after.sampled_ms / 1000, UTC),
                produced_per_s=max(0, after.produced - before.produced) / seconds,
                consumed_per_s=max(0, after.consumed - before.consumed) / seconds,
            )
        )
    return points
