"""Request and response bodies: the HTTP contract, validated by pydantic.

Field aliases keep the original assignment's clients working (``topic_name``,
``log_message``, ``name``) beside the canonical names.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field

TOPIC_PATTERN = r"^[A-Za-z0-9._-]+$"
MAX_CLIENT_ID = 2**53
MAX_RETENTION_MESSAGES = 2**62
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


def _storable(body: str) -> str:
    """PostgreSQL text cannot hold NUL, so both backends refuse it up front."""
    if "\x00" in body:
        raise ValueError("message must not contain NUL characters")
    return body


MessageBody = Annotated[
    str,
    Field(min_length=1, description="Non-empty text, at most LOGQUEUE_MAX_MESSAGE_BYTES."),
    AfterValidator(_storable),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CreateTopicRequest(Request):
    topic_name: TopicName = Field(validation_alias=AliasChoices("topic_name", "name"))
    retention_messages: int | None = Field(
        default=None, ge=1, le=MAX_RETENTION_MESSAGES, description="Keep at most this many."
    )
    retention_ms: int | None = Field(
        default=None, ge=1, le=MAX_RETENTION_MS, description="Keep messages this young."
    )


class RegisterRequest(Request):
    topic: TopicName = Field(validation_alias=AliasChoices("topic", "topic_name"))


class ProduceRequest(Request):
    topic: TopicName = Field(validation_alias=AliasChoices("topic", "topic_name"))
    producer_id: ClientId
    message: MessageBody = Field(validation_alias=AliasChoices("message", "log_message"))


class ConsumerRef(Request):
    """Which consumer is asking; from the query string, or a JSON body on GET."""

    topic: TopicName = Field(validation_alias=AliasChoices("topic", "topic_name"))
    consumer_id: ClientId


class Success(BaseModel):
    status: Literal["success"] = "success"


class StatusResponse(BaseModel):
    status: Literal["success", "failure"]
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


class Consumed(Success):
    message: str
    offset: int
    produced_at: datetime


class NothingNew(BaseModel):
    """Old clients poll on this exact shape, so it is a 200, not an error status."""

    status: Literal["failure"] = "failure"
    message: Literal["no new messages"] = "no new messages"


class SizeResponse(Success):
    size: int = Field(description="Messages this consumer has not read yet.")


class Failure(BaseModel):
    status: Literal["failure"] = "failure"
    message: str


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
    producers: list[int]
    consumers: list[ConsumerState]
