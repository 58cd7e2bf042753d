from contextlib import nullcontext
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.auth import CallerDep, get_caller
from app.api.deps import CONSUMER_REF_OPENAPI, ConsumerDep, ServiceDep, get_service
from app.api.disconnect import watch_disconnect
from app.api.json import json_response
from app.api.openapi import responses
from app.domain import EncodedMessages
from app.errors import ConsumerNotFound, TooManyWaiters, TopicNotFound, WrongTopic
from app.schemas import (
    ClientId,
    Consumed,
    ConsumedBatch,
    ConsumerRegistered,
    MessageResponse,
    NothingNew,
    RegisterRequest,
    SizeResponse,
)

router = APIRouter(tags=["consumer"])

MAX_WAIT_MS = 30_000

NOTHING_NEW = NothingNew().model_dump()

# What any request naming a consumer can be refused with.
CONSUMER_ERRORS = (TopicNotFound, ConsumerNotFound, WrongTopic)


@router.post(
    "/consumer/register",
    summary="Register a consumer; it starts at offset 0",
    responses=responses(TopicNotFound),
)
async def register(
    body: RegisterRequest, service: ServiceDep, caller: CallerDep
) -> ConsumerRegistered:
    return ConsumerRegistered(
        consumer_id=await service.register_consumer(body.topic, caller=caller)
    )


@router.get(
    "/consumer/consume",
    summary="Read the next message(s) and advance this consumer's offset",
    openapi_extra=CONSUMER_REF_OPENAPI,
    # The answers are written straight to a Response (json_response, _batch_response), so
    # the documented models are named here rather than read from the return annotation.
    response_model=Consumed | NothingNew | ConsumedBatch,
    responses=responses(*CONSUMER_ERRORS, TooManyWaiters),
)
async def consume(
    request: Request,
    ref: ConsumerDep,
    max_messages: Annotated[
        int | None,
        Query(ge=1, description="Batch mode: up to this many messages, as `messages`."),
    ] = None,
    wait_ms: Annotated[
        int,
        Query(ge=0, le=MAX_WAIT_MS, description="Long poll: wait this long for a message."),
    ] = 0,
) -> Response:
    # Looked up rather than injected, as in ``producer.produce``.
    service, caller = await get_service(request), await get_caller(request)
    # A client that leaves a long poll must not have a message taken for it.
    watch = watch_disconnect(request.receive) if wait_ms > 0 else nullcontext(None)
    async with watch as gone:
        if max_messages is not None:
            batch = await service.consume_encoded(
                ref.topic, ref.consumer_id, max_messages, wait_ms, caller=caller, gone=gone
            )
            return _batch_response(batch)
        found = await service.consume(
            ref.topic, ref.consumer_id, 1, wait_ms, caller=caller, gone=gone
        )
    if not found:
        return json_response(NOTHING_NEW)
    # Built with orjson rather than returned as ``Consumed``: FastAPI's validation of the
    # model against the route's response_model and its serialisation again cost a tenth of
    # a single consume (py-spy, in process under 64 clients). The same bytes as the model.
    first = found[0]
    return json_response(
        {
            "status": "success",
            "message": first.body,
            "offset": first.offset,
            "produced_at": first.produced_at,
            "log_message": first.body,
        }
    )


def _batch_response(found: EncodedMessages) -> Response:
    """The storage layer encoded the messages (see ``app/storage/message_json.py``: a
    1,000-message batch costs no Python object per message); the shape is the documented
    ``ConsumedBatch``."""
    return Response(
        b'{"status":"success","messages":' + found.json + b"}", media_type="application/json"
    )


@router.get(
    "/size",
    summary="Messages this consumer has not read yet",
    responses=responses(*CONSUMER_ERRORS),
    openapi_extra=CONSUMER_REF_OPENAPI,
)
async def size(ref: ConsumerDep, service: ServiceDep, caller: CallerDep) -> SizeResponse:
    return SizeResponse(size=await service.remaining(ref.topic, ref.consumer_id, caller=caller))


@router.delete(
    "/consumer/{consumer_id:int}",
    summary="Delete a consumer; by the key that registered it, or an admin",
    responses=responses(ConsumerNotFound),
)
async def delete(consumer_id: ClientId, service: ServiceDep, caller: CallerDep) -> MessageResponse:
    await service.delete_consumer(consumer_id, caller=caller)
    return MessageResponse(message=f"Consumer {consumer_id} deleted")
