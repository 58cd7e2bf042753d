from fastapi import APIRouter

from app.api.auth import CallerDep
from app.api.deps import ServiceDep
from app.schemas import (
    Failure,
    Produced,
    ProducedBatch,
    ProduceRequest,
    ProducerRegistered,
    RegisterRequest,
)

router = APIRouter(prefix="/producer", tags=["producer"])


@router.post("/register", summary="Register a producer (creates the topic if missing)")
async def register(
    body: RegisterRequest, service: ServiceDep, caller: CallerDep
) -> ProducerRegistered:
    return ProducerRegistered(
        producer_id=await service.register_producer(body.topic, caller=caller)
    )


@router.post(
    "/produce",
    summary="Append a message; answered only once it is committed",
    responses={
        403: {"model": Failure, "description": "Producer registered for another topic"},
        404: {"model": Failure, "description": "Unknown topic or producer"},
        409: {"model": Failure, "description": "Sequence out of order"},
        413: {"model": Failure, "description": "Message or batch too large"},
    },
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
