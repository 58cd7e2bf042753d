"""``GET /topics/{topic}/messages``: page through a topic's log, newest first, read-only."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import BrowserDep
from app.api.openapi import responses
from app.errors import InvalidRequest, TopicNotFound
from app.schemas import ConsumedMessage, MessagePage, TopicName

router = APIRouter(tags=["browse"])

MAX_PAGE = 500


@router.get(
    "/topics/{topic}/messages",
    summary="A page of a topic's messages, newest first (moves no consumer)",
    responses=responses(TopicNotFound, InvalidRequest),
)
async def messages(
    topic: TopicName,
    browser: BrowserDep,
    before: Annotated[
        int | None,
        Query(ge=0, le=2**63 - 1, description="Only offsets below this (the page's `older`)."),
    ] = None,
    time: Annotated[
        datetime | None,
        Query(description="Jump: the page ends with the first message produced at or after it."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Messages per page.")] = 50,
) -> MessagePage:
    page = await browser.page(topic, limit, before=before, at=time)
    return MessagePage(
        topic=page.topic,
        first_offset=page.first_offset,
        next_offset=page.next_offset,
        messages=[
            ConsumedMessage(offset=m.offset, message=m.body, produced_at=m.produced_at)
            for m in page.messages
        ],
        older=page.older,
    )
