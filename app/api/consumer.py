from fastapi import APIRouter

from app.api.deps import ConsumerDep, ServiceDep
from app.schemas import (
    Consumed,
    ConsumerRegistered,
    Failure,
    NothingNew,
    RegisterRequest,
    SizeResponse,
)

router = APIRouter(tags=["consumer"])

ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": Failure, "description": "Consumer registered for another topic"},
    404: {"model": Failure, "description": "Unknown topic or consumer"},
}


@router.post(
    "/consumer/register",
    summary="Register a consumer; it starts at offset 0",
    responses={404: {"model": Failure, "description": "Unknown topic"}},
)
async def register(body: RegisterRequest, service: ServiceDep) -> ConsumerRegistered:
    return ConsumerRegistered(consumer_id=await service.register_consumer(body.topic))


@router.get(
    "/consumer/consume",
    summary="Read the next message and advance this consumer's offset",
    responses=ERRORS,
)
async def consume(ref: ConsumerDep, service: ServiceDep) -> Consumed | NothingNew:
    found = await service.consume(ref.topic, ref.consumer_id)
    if not found:
        return NothingNew()
    first = found[0]
    return Consumed(message=first.body, offset=first.offset, produced_at=first.produced_at)


@router.get("/size", summary="Messages this consumer has not read yet", responses=ERRORS)
async def size(ref: ConsumerDep, service: ServiceDep) -> SizeResponse:
    return SizeResponse(size=await service.remaining(ref.topic, ref.consumer_id))
