from fastapi import APIRouter

from app.api.auth import CallerDep
from app.api.deps import ServiceDep
from app.domain import Retention
from app.schemas import (
    ConsumerState,
    CreateTopicRequest,
    Failure,
    MessageResponse,
    TopicDetailsResponse,
    TopicName,
    TopicsResponse,
)

router = APIRouter(prefix="/topics", tags=["topics"])

NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": Failure, "description": "Unknown topic"}
}


@router.post(
    "",
    summary="Create a topic, optionally with retention limits",
    responses={409: {"model": Failure, "description": "Topic exists"}},
)
async def create_topic(
    body: CreateTopicRequest, service: ServiceDep, caller: CallerDep
) -> MessageResponse:
    retention = Retention(body.retention_messages, body.retention_ms)
    await service.create_topic(body.topic_name, retention, caller=caller)
    return MessageResponse(message=f"Topic '{body.topic_name}' created successfully")


@router.get("", summary="List topics in creation order")
async def list_topics(service: ServiceDep) -> TopicsResponse:
    return TopicsResponse(topics=await service.list_topics())


@router.get(
    "/{name}",
    summary="A topic's length, retention, producers and consumers (offset and lag)",
    responses=NOT_FOUND,
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
    responses=NOT_FOUND,
)
async def delete_topic(name: TopicName, service: ServiceDep, caller: CallerDep) -> MessageResponse:
    await service.delete_topic(name, caller=caller)
    return MessageResponse(message=f"Topic '{name}' deleted")
