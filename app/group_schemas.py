"""Request and response bodies of the consumer-group routes."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.group_types import DEFAULT_ACK_WAIT_MS, DEFAULT_MAX_DELIVER, Start
from app.schemas import MAX_CLIENT_ID, NotABool, Request, Success, TopicName

GroupName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="1-255 letters, digits, '.', '_' or '-' (the topic-name rules).",
        examples=["workers"],
    ),
]
MAX_WAIT_MS = 30_000
# Leases and delays up to a day: far beyond any handler, small enough to never overflow.
MAX_LEASE_MS = 24 * 3600 * 1000
MAX_DELIVER = 1_000_000
Offset = Annotated[int, Field(ge=0, le=MAX_CLIENT_ID), NotABool]
LeaseMs = Annotated[int, Field(ge=1, le=MAX_LEASE_MS), NotABool]
LeaseId = Annotated[
    str,
    Field(min_length=1, max_length=64, description="As returned by fetch.", examples=["7.1234"]),
]
OffsetList = Annotated[
    list[Offset],
    Field(min_length=1, max_length=10_000, description="Default: every message of the lease."),
]


class StartOffset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offset: Offset


def _rfc3339_text(value: object) -> object:
    """Pydantic would read a bare number as seconds since 1970; the API promises RFC 3339."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 date-time string")
    return value


class StartTime(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time: Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)] = Field(
        description="RFC 3339; the first message produced at or after."
    )


StartForm = Literal["earliest", "latest"] | StartOffset | StartTime


def start_of(form: StartForm) -> Start:
    if isinstance(form, StartOffset):
        return Start("offset", offset=form.offset)
    if isinstance(form, StartTime):
        try:
            return Start("time", time=form.time.astimezone(UTC))
        except OverflowError:  # past year 1 or 9999 in UTC: before or after every message
            return Start("earliest" if form.time.year == 1 else "latest")
    return Start(form)


class PutGroupRequest(Request):
    """Every field is optional; on update, an omitted setting keeps its value."""

    start: StartForm = Field(default="earliest", description="Where a new group begins.")
    ack_wait_ms: LeaseMs = Field(
        default=DEFAULT_ACK_WAIT_MS, description="How long a lease lasts unless extended."
    )
    max_deliver: Annotated[int, Field(ge=1, le=MAX_DELIVER), NotABool] = Field(
        default=DEFAULT_MAX_DELIVER, description="Deliveries without an ack before it is dead."
    )
    dead_letter_topic: TopicName | None = Field(
        default=None, description="An existing topic that receives dead messages' envelopes."
    )


class FetchRequest(Request):
    member: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Who fetches (for logs); 1-255 printable characters.",
        examples=["worker-1"],
    )
    max_messages: Annotated[int, Field(ge=1), NotABool] = Field(
        default=1, description="At most LOGQUEUE_MAX_BATCH."
    )
    wait_ms: Annotated[int, Field(ge=0, le=MAX_WAIT_MS), NotABool] = Field(
        default=0, description="Long poll: wait this long for a deliverable message."
    )


class AckRequest(Request):
    lease_id: LeaseId
    offsets: OffsetList | None = None


class NackRequest(AckRequest):
    delay_ms: Annotated[int, Field(ge=0, le=MAX_LEASE_MS), NotABool] = Field(
        default=0, description="Deliver again no sooner than this."
    )


class ExtendRequest(Request):
    lease_id: LeaseId
    ms: LeaseMs | None = Field(default=None, description="Default: the group's ack_wait_ms.")


class SeekRequest(Request):
    start: StartForm


class GroupInfo(BaseModel):
    topic: str
    group: str
    ack_wait_ms: int
    max_deliver: int
    dead_letter_topic: str | None
    next_offset: int = Field(description="First offset never delivered to the group.")
    pending: int = Field(description="Messages out on live leases.")
    acked: int
    redelivered: int = Field(description="Deliveries after the first.")
    dead_lettered: int
    skipped: int = Field(description="Messages retention removed before the group finished them.")
    lag: int = Field(description="Messages produced and not yet finished by the group.")
    created_at: datetime


class GroupResponse(Success):
    group: GroupInfo


class GroupsResponse(Success):
    groups: list[GroupInfo]


class GroupMessage(BaseModel):
    offset: int
    message: str
    produced_at: datetime
    delivery: int = Field(description="Deliveries of this message to the group, this one included.")


class FetchResponse(Success):
    lease_id: str | None
    lease_expires_at: datetime | None
    messages: list[GroupMessage]


class AckResponse(Success):
    acked: int


class NackResponse(Success):
    nacked: int


class TermResponse(Success):
    terminated: int


class ExtendResponse(Success):
    lease_expires_at: datetime
