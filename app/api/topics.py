from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query

from app.api.auth import CallerDep
from app.api.deps import ServiceDep
from app.api.openapi import responses
from app.domain import DEFAULT_CLIENTS_PAGE, ClientsPage, Retention, TopicDetails
from app.errors import TopicExists, TopicNotFound
from app.schemas import (
    MAX_CLIENT_ID,
    ConsumerState,
    CreateTopicRequest,
    MessageResponse,
    TopicDetailsResponse,
    TopicName,
    TopicsResponse,
)

router = APIRouter(prefix="/topics", tags=["topics"])

# A topic's producers and consumers come in pages: 8,000 consumers made a 418 KB answer.
MAX_CLIENTS_PAGE = 1000


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
    summary="A topic's length, retention, and a page of its producers and consumers",
    responses=responses(TopicNotFound),
)
async def describe_topic(
    name: TopicName,
    service: ServiceDep,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_CLIENTS_PAGE,
            description="Producers and consumers per page.",
            examples=[DEFAULT_CLIENTS_PAGE],
        ),
    ] = DEFAULT_CLIENTS_PAGE,
    producers_after: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_CLIENT_ID,
            description="List producer ids above this (the `next` path carries it).",
            examples=[4503599627370497],
        ),
    ] = None,
    consumers_after: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_CLIENT_ID,
            description="List consumer ids above this (the `next` path carries it).",
            examples=[4503599627370497],
        ),
    ] = None,
) -> TopicDetailsResponse:
    page = ClientsPage(limit, producers_after or 0, consumers_after or 0)
    details = await service.topic_details(name, page)
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
        producer_count=details.producer_count,
        consumer_count=details.consumer_count,
        next=_next_page(details, page),
    )


def _next_page(details: TopicDetails, page: ClientsPage) -> str | None:
    """Each cursor moves past what this page listed; a list already complete keeps its
    cursor there, so the next page lists none of it again."""
    if not (details.more_producers or details.more_consumers):
        return None
    query: dict[str, int] = {"limit": page.limit}
    producers_after = details.producers[-1] if details.producers else page.producers_after
    consumers_after = (
        details.consumers[-1].consumer_id if details.consumers else page.consumers_after
    )
    if producers_after:
        query["producers_after"] = producers_after
    if consumers_after:
        query["consumers_after"] = consumers_after
    return f"/topics/{details.name}?{urlencode(query)}"


@router.delete(
    "/{name}",
    summary="Delete a topic with its messages, producers and consumers",
    responses=responses(TopicNotFound),
)
async def delete_topic(name: TopicName, service: ServiceDep, caller: CallerDep) -> MessageResponse:
    await service.delete_topic(name, caller=caller)
    return MessageResponse(message=f"Topic '{name}' deleted")
