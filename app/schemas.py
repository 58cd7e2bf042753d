"""Request and response bodies: the HTTP contract, validated by pydantic.

Field aliases keep the original assignment's clients working (``topic_name``,
``log_message``, ``name``) beside the canonical names.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

TOPIC_PATTERN = r"^[A-Za-z0-9._-]+$"
MAX_CLIENT_ID = 2**53
MAX_RETENTION_MESSAGES = 2**53  # exact in a JSON double, like the ids
MAX_RETENTION_MS = 100 * 365 * 24 * 3600 * 1000  # a century: far beyond any real limit

TopicName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=TOPIC_PATTERN,
        description="1-255 letters, digits, '.', '_' or '-'.",
        examples=["orders"],
    ),
]
ClientId = Annotated[int, Field(ge=1, le=MAX_CLIENT_ID, examples=[4503599627370497])]


def _not_a_bool(value: object) -> object:
    """JSON `true` is not the number 1, though pydantic's lax mode would take it as one."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


NotABool = BeforeValidator(_not_a_bool)  # after the bounds, so the schema keeps them


def _storable(body: str) -> str:
    """PostgreSQL text cannot hold NUL, so both backends refuse it up front."""
    if "\x00" in body:
        raise ValueError("message must not contain NUL characters")
    return body


MessageBody = Annotated[
    str,
    Field(
        min_length=1,
        description="Non-empty text without NUL, at most LOGQUEUE_MAX_MESSAGE_BYTES of UTF-8.",
        json_schema_extra={"pattern": "^[^\\u0000]*$"},
    ),
    AfterValidator(_storable),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _one_payload_schema(schema: dict[str, Any]) -> None:
    """Document "exactly one of message / messages, not null" as the validator enforces it."""
    for name in ("message", "messages"):
        prop = schema["properties"][name]
        prop.update(next(s for s in prop.pop("anyOf") if s.get("type") != "null"))
        prop.pop("default", None)
    schema["oneOf"] = [{"required": ["message"]}, {"required": ["messages"]}]


class CreateTopicRequest(Request):
    topic_name: TopicName = Field(validation_alias=AliasChoices("topic_name", "name"))
    retention_messages: Annotated[int, Field(ge=1, le=MAX_RETENTION_MESSAGES), NotABool] | None = (
        Field(default=None, description="Keep at most this many.")
    )
    retention_ms: Annotated[int, Field(ge=1, le=MAX_RETENTION_MS), NotABool] | None = Field(
        default=None, description="Keep messages this young."
    )


class RegisterRequest(Request):
    topic: TopicName = Field(validation_alias=AliasChoices("topic", "topic_name"))


class ProduceRequest(Request):
    """One message (``message``) or a batch (``messages``), never both."""

    model_config = ConfigDict(json_schema_extra=_one_payload_schema)

    topic: TopicName = Field(validation_alias=AliasChoices("topic", "topic_name"))
    producer_id: Annotated[ClientId, NotABool]
    message: MessageBody | None = Field(
        default=None, validation_alias=AliasChoices("message", "log_message")
    )
    messages: list[MessageBody] | None = Field(
        default=None,
        min_length=1,
        description="A batch, stored all or nothing at consecutive offsets "
        "(at most LOGQUEUE_MAX_BATCH).",
    )

    sequence: Annotated[int, Field(ge=0, le=MAX_CLIENT_ID), NotABool] | None = Field(
        default=None,
        description="Idempotent produce: 0, 1, 2, ... per producer. A repeat of the last "
        "sequence is answered with its original offsets and stores nothing; any other "
        "out-of-order value is a 409.",
    )

    @model_validator(mode="after")
    def _exactly_one_payload(self) -> "ProduceRequest":
        if (self.message is None) == (self.messages is None):
            raise ValueError("give exactly one of 'message' or 'messages'")
        return self

    @property
    def bodies(self) -> list[str]:
        if self.message is not None:
            return [self.message]
        assert self.messages is not None  # exactly one of the two: _exactly_one_payload
        return self.messages


class ConsumerRef(Request):
    """Which consumer is asking; from the query string, or a JSON body on GET."""

    topic: TopicName = Field(validation_alias=AliasChoices("topic", "topic_name"))
    consumer_id: ClientId


class Success(BaseModel):
    status: Literal["success"] = "success"


class StatusResponse(BaseModel):
    status: Literal["success", "failure"]
    error: str | None = Field(default=None, description="`storage_unavailable` with a 503.")
    database: str = Field(examples=["ok"])
    version: str


class MessageResponse(Success):
    message: str


class TopicsResponse(Success):
    topics: list[str]


class ProducerRegistered(Success):
    producer_id: int


class ConsumerRegistered(Success):
    consumer_id: int


class Produced(Success):
    offset: int = Field(description="Offset the message was stored at.")


class ProducedBatch(Success):
    offsets: tuple[int, int] = Field(description="First and last offset of the batch.")


class Consumed(Success):
    message: str
    offset: int
    produced_at: datetime

    @computed_field(description="The same as `message`, under the original server's name.")
    def log_message(self) -> str:
        """The original group's client library reads this key; without it, its get_next()
        fails after the offset has already moved, losing the message."""
        return self.message


class ConsumedMessage(BaseModel):
    offset: int
    message: str
    produced_at: datetime


class ConsumedBatch(Success):
    """The batch shape, chosen by ``max_messages``; empty when nothing is new."""

    messages: list[ConsumedMessage]


class NothingNew(BaseModel):
    """Old clients poll on this exact shape, so it is a 200, not an error status."""

    status: Literal["failure"] = "failure"
    message: Literal["no new messages"] = "no new messages"


class SizeResponse(Success):
    size: int = Field(description="Messages this consumer has not read yet.")


class Failure(BaseModel):
    status: Literal["failure"] = "failure"
    error: str = Field(
        description="Machine-readable code (snake_case), stable across releases: branch on "
        "this, not on the message. The README lists them.",
        examples=["topic_not_found"],
    )
    message: str = Field(description="What went wrong, for people; wording may change.")


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationFailure(Failure):
    errors: list[FieldError]


class ConsumerState(BaseModel):
    consumer_id: int
    offset: int = Field(description="The offset this consumer reads next.")
    lag: int = Field(description="Messages it has not read yet.")


class TopicDetailsResponse(Success):
    topic: str
    length: int = Field(description="Messages stored now (after retention).")
    first_offset: int = Field(description="Oldest offset still kept.")
    next_offset: int = Field(description="Offset the next message will get.")
    retention_messages: int | None
    retention_ms: int | None
    created_at: datetime
    producers: list[int] = Field(description="A page of producer ids, in id order.")
    consumers: list[ConsumerState] = Field(description="A page of consumers, in id order.")
    producer_count: int = Field(description="All of the topic's producers.")
    consumer_count: int = Field(description="All of the topic's consumers.")
    next: str | None = Field(
        description="Path and query of the next page of producers and consumers; null once "
        "both lists are complete.",
        examples=["/topics/orders?limit=100&producers_after=17&consumers_after=4503599627370497"],
    )


class MessagePage(Success):
    """One page of a topic's log, newest first; ``older`` is the ``before`` of the next page
    (null on the oldest page)."""

    topic: str
    first_offset: int = Field(description="Oldest offset still kept.")
    next_offset: int = Field(description="Offset the next message will get.")
    messages: list[ConsumedMessage]
    older: int | None


class RatePoint(BaseModel):
    at: datetime = Field(description="End of the sampling interval.")
    produce_per_s: float
    consume_per_s: float


class TopicStats(BaseModel):
    topic: str
    length: int
    first_offset: int
    next_offset: int
    retention_messages: int | None
    retention_ms: int | None
    consumers: int
    groups: int = Field(description="Consumer groups on the topic.")
    max_lag: int | None = Field(
        description="Largest lag of its consumers and groups; null without any."
    )
    rates: list[RatePoint] = Field(description="Oldest first, over the last ten minutes.")


class TopicStatsResponse(Success):
    sample_interval_s: float
    topic: TopicStats


class AllTopicStatsResponse(Success):
    sample_interval_s: float
    topics: list[TopicStats]
