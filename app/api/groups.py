"""Consumer groups: members share a topic's messages under leases (see the README)."""

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request, Response

from app.api.openapi import responses
from app.errors import (
    DeadLetterLoop,
    GroupNotFound,
    LeaseExpired,
    LeaseNotFound,
    OffsetsNotInLease,
    TooManyWaiters,
    TopicNotFound,
)
from app.group_schemas import (
    AckRequest,
    AckResponse,
    ExtendRequest,
    ExtendResponse,
    FetchRequest,
    FetchResponse,
    GroupInfo,
    GroupName,
    GroupResponse,
    GroupsResponse,
    NackRequest,
    NackResponse,
    PutGroupRequest,
    SeekRequest,
    TermResponse,
    start_of,
)
from app.group_types import Fetched, GroupDetails, GroupSettings, format_lease_id
from app.schemas import MessageResponse, TopicName
from app.service.groups import GroupService

router = APIRouter(prefix="/topics/{topic}/groups", tags=["groups"])


async def get_groups(request: Request) -> GroupService:
    service: GroupService = request.app.state.groups
    return service


GroupsDep = Annotated[GroupService, Depends(get_groups)]

NOT_FOUND = responses(TopicNotFound, GroupNotFound)
LEASE_ERRORS = responses(
    TopicNotFound, GroupNotFound, LeaseNotFound, LeaseExpired, OffsetsNotInLease
)


def _info(details: GroupDetails) -> GroupInfo:
    return GroupInfo(
        topic=details.topic,
        group=details.name,
        ack_wait_ms=details.settings.ack_wait_ms,
        max_deliver=details.settings.max_deliver,
        dead_letter_topic=details.settings.dead_letter_topic,
        next_offset=details.next_offset,
        pending=details.pending,
        acked=details.acked,
        redelivered=details.redelivered,
        dead_lettered=details.dead_lettered,
        skipped=details.skipped,
        lag=details.lag,
        created_at=details.created_at,
    )


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@router.get(
    "",
    summary="The topic's consumer groups",
    responses=responses(TopicNotFound),
)
async def list_groups(topic: TopicName, groups: GroupsDep) -> GroupsResponse:
    return GroupsResponse(groups=[_info(d) for d in await groups.list_groups(topic)])


@router.put(
    "/{group}",
    summary="Create a group (at `start`) or update its settings",
    responses=responses(TopicNotFound, DeadLetterLoop),
)
async def put_group(
    topic: TopicName, group: GroupName, body: PutGroupRequest, groups: GroupsDep
) -> GroupResponse:
    settings = GroupSettings(body.ack_wait_ms, body.max_deliver, body.dead_letter_topic)
    _created, details = await groups.put_group(
        topic, group, settings, start_of(body.start), set(body.model_fields_set)
    )
    return GroupResponse(group=_info(details))


@router.get("/{group}", summary="A group's settings and counts", responses=NOT_FOUND)
async def group_details(topic: TopicName, group: GroupName, groups: GroupsDep) -> GroupResponse:
    return GroupResponse(group=_info(await groups.details(topic, group)))


@router.delete("/{group}", summary="Delete a group and its leases", responses=NOT_FOUND)
async def delete_group(topic: TopicName, group: GroupName, groups: GroupsDep) -> MessageResponse:
    await groups.delete_group(topic, group)
    return MessageResponse(message=f"Group '{group}' deleted")


@router.post(
    "/{group}/fetch",
    summary="Lease up to max_messages messages no one else holds",
    response_model=FetchResponse,
    responses=responses(TopicNotFound, GroupNotFound, TooManyWaiters),
)
async def fetch(
    topic: TopicName, group: GroupName, body: FetchRequest, groups: GroupsDep
) -> Response:
    found = await groups.fetch(topic, group, body.member, body.max_messages, body.wait_ms)
    return _fetched(found)


def _fetched(found: Fetched) -> Response:
    """The messages come encoded by the storage layer, as batch consume's do (same reason);
    the rest is serialised with orjson."""
    lease_id = None if found.token is None else format_lease_id(found.group_id, found.token)
    head = {
        "status": "success",
        "lease_id": lease_id,
        "lease_expires_at": None if lease_id is None else _at(found.expires_at_ms),
    }
    # '{"status":...,"lease_expires_at":...}' opened up for the messages' array.
    opened = orjson.dumps(head, option=orjson.OPT_UTC_Z)[:-1]
    return Response(
        opened + b',"messages":' + found.messages.json + b"}", media_type="application/json"
    )


@router.post("/{group}/ack", summary="Finish messages of a live lease", responses=LEASE_ERRORS)
async def ack(
    topic: TopicName, group: GroupName, body: AckRequest, groups: GroupsDep
) -> AckResponse:
    return AckResponse(acked=await groups.settle(topic, group, body.lease_id, body.offsets, "ack"))


@router.post(
    "/{group}/nack",
    summary="Give messages back, to be delivered again after delay_ms",
    responses=LEASE_ERRORS,
)
async def nack(
    topic: TopicName, group: GroupName, body: NackRequest, groups: GroupsDep
) -> NackResponse:
    count = await groups.settle(topic, group, body.lease_id, body.offsets, "nack", body.delay_ms)
    return NackResponse(nacked=count)


@router.post(
    "/{group}/term", summary="Dead-letter messages of a live lease now", responses=LEASE_ERRORS
)
async def term(
    topic: TopicName, group: GroupName, body: AckRequest, groups: GroupsDep
) -> TermResponse:
    count = await groups.settle(topic, group, body.lease_id, body.offsets, "term")
    return TermResponse(terminated=count)


@router.post("/{group}/extend", summary="Make a live lease last longer", responses=LEASE_ERRORS)
async def extend(
    topic: TopicName, group: GroupName, body: ExtendRequest, groups: GroupsDep
) -> ExtendResponse:
    expires = await groups.extend(topic, group, body.lease_id, body.ms)
    return ExtendResponse(lease_expires_at=_at(expires))


@router.post(
    "/{group}/seek",
    summary="Move the group: before `start` is finished, from it on is delivered again",
    responses=NOT_FOUND,
)
async def seek(
    topic: TopicName, group: GroupName, body: SeekRequest, groups: GroupsDep
) -> GroupResponse:
    return GroupResponse(group=_info(await groups.seek(topic, group, start_of(body.start))))
