"""The console's figures as JSON: every topic at a glance, with produce and consume rates."""

from fastapi import APIRouter

from app.api.deps import StatsDep
from app.api.openapi import responses
from app.errors import TopicNotFound
from app.schemas import (
    AllTopicStatsResponse,
    RatePoint,
    TopicName,
    TopicStats,
    TopicStatsResponse,
)
from app.service import stats

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get(
    "/topics",
    summary="Every topic's length, bounds, retention, largest lag and rates (last 10 min)",
    responses=responses(),
)
async def all_topics(service: StatsDep) -> AllTopicStatsResponse:
    found = await service.all_topics()
    return AllTopicStatsResponse(
        sample_interval_s=service.interval_s, topics=[_topic(t) for t in found]
    )


@router.get(
    "/topics/{topic}",
    summary="One topic's figures, as in /stats/topics",
    responses=responses(TopicNotFound),
)
async def one_topic(topic: TopicName, service: StatsDep) -> TopicStatsResponse:
    return TopicStatsResponse(
        sample_interval_s=service.interval_s, topic=_topic(await service.topic(topic))
    )


def _topic(found: stats.TopicStats) -> TopicStats:
    summary = found.summary
    return TopicStats(
        topic=summary.name,
        length=summary.next_offset - summary.first_offset,
        first_offset=summary.first_offset,
        next_offset=summary.next_offset,
        retention_messages=summary.retention.messages,
        retention_ms=summary.retention.ms,
        consumers=summary.consumers,
        groups=summary.groups,
        max_lag=summary.max_lag,
        rates=[
            RatePoint(at=p.at, produce_per_s=p.produced_per_s, consume_per_s=p.consumed_per_s)
            for p in found.rates
        ],
    )
