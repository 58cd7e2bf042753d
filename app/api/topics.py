from fastapi import APIRouter

from app.api.auth import CallerDep
from app.api.deps import ServiceDep
from app.api.openapi import responses
from app.domain import Retention
from app.errors import TopicExists, TopicNotFound
from app.schemas import (
    ConsumerState,
    CreateTopicRequest,
    MessageResponse,
    TopicDetailsResponse,
    TopicName,
    TopicsResponse,
)

router = APIRouter(prefix="/topics", tags=["topics"])


@router.post(
    "",
    summary="Create a topic, optionally with retention limits",
    responses=responses(TopicExists),
)
async def create_topic(
    body: CreateTopicRequest, service: ServiceDep, caller: CallerDep
) -> MessageResponse:
    retention = Retention(body.retention_messages, body.retention_ms)
    await service.create_topic(body.topic_name, retention, caller=caller)
    return MessageResponse(message=f"Topic '{body.topic_name}' created successfully")


@router.get("", summary="List topics in creation order", responses=responses())
async def list_topics(service: ServiceDep) -> TopicsResponse:
    return TopicsResponse(topics=await service.list_topics())


@router.get(
    "/{name}",
    summary="A topic's length, retention, producers and consumers (offset and lag)",
    responses=responses(TopicNotFound),
)
async def describe_topic(name: TopicName, service: ServiceDep) -> TopicDetailsResponse:
    details = await service.topic_details(name)
    return TopicDetailsResponse(
        topic=details.name,
        length=details.next_offset - details.first_offset,
        first_offset=details.first_offset,
        next_offset=details.next_offset,
        retention_messages=details.retention.messages,
        retention_ms=details.retention.ms,
        created_at=details.created_at,
        producers=details.producers,
        consumers=[
            ConsumerState(consumer_id=c.consumer_id, offset=c.offset, lag=c.lag)
            for c in details.consumers
        ],
    )


@router.delete(
    "/{name}",
    summary="Delete a topic with its messages, producers and consumers",
    responses=responses(TopicNotFound),
)
async def delete_topic(name: TopicName, service: ServiceDep, caller: CallerDep) -> MessageResponse:
    await service.delete_topic(name, caller=caller)
    return MessageResponse(message=f"Topic '{name}' deleted")
