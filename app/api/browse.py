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
# A date, a time and a zone: a bare number or a time without zone is refused (422).
RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


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
        str | None,
        Query(
            pattern=RFC3339,
            description="Jump: the page ends with the first message produced at or after "
            "this RFC 3339 time (with its zone, e.g. `2026-12-02T12:00:00Z`).",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Messages per page.")] = 50,
) -> MessagePage:
    page = await browser.page(topic, limit, before=before, at=_parse_time(time))
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


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest.for_field("time", "not a valid date and time") from None
