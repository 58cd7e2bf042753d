from fastapi import APIRouter, Depends, Request

from app.api.auth import CallerDep
from app.api.deps import ServiceDep
from app.api.openapi import responses
from app.errors import (
    BatchTooLarge,
    MessageTooLarge,
    ProducerNotFound,
    SequenceConflict,
    TopicNotFound,
    WrongTopic,
)
from app.schemas import (
    Produced,
    ProducedBatch,
    ProduceRequest,
    ProducerRegistered,
    RegisterRequest,
)

router = APIRouter(prefix="/producer", tags=["producer"])


async def batch_within_limit(request: Request, service: ServiceDep) -> None:
    """Count a batch before pydantic validates its items: a small body holding 100,000
    empty strings took seconds to validate and answered megabytes of field errors, while
    its count alone refuses it. (FastAPI has already parsed the JSON body; this reads the
    parsed value it keeps.)"""
    try:
        body = await request.json()
    except ValueError:
        return  # not JSON: FastAPI answers that itself
    messages = body.get("messages") if isinstance(body, dict) else None
    if isinstance(messages, list):
        service.check_batch_size(len(messages))


@router.post(
    "/register",
    summary="Register a producer (creates the topic if missing)",
    responses=responses(TopicNotFound),
)
async def register(
    body: RegisterRequest, service: ServiceDep, caller: CallerDep
) -> ProducerRegistered:
    return ProducerRegistered(
        producer_id=await service.register_producer(body.topic, caller=caller)
    )


@router.post(
    "/produce",
    summary="Append a message; answered only once it is committed",
    dependencies=[Depends(batch_within_limit)],
    responses=responses(
        TopicNotFound,
        ProducerNotFound,
        WrongTopic,
        SequenceConflict,
        MessageTooLarge,
        BatchTooLarge,
    ),
)
async def produce(
    body: ProduceRequest, service: ServiceDep, caller: CallerDep
) -> Produced | ProducedBatch:
    stored = await service.produce(
        body.topic, body.producer_id, body.bodies, body.sequence, caller=caller
    )
    if body.messages is None:
        return Produced(offset=stored.first)
    return ProducedBatch(offsets=(stored.first, stored.first + stored.count - 1))
