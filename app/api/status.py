from fastapi import APIRouter

from app import __version__
from app.api.deps import ServiceDep
from app.schemas import StatusResponse

router = APIRouter(tags=["status"])


@router.get("/status", summary="Liveness and database health")
async def status(service: ServiceDep) -> StatusResponse:
    ok = await service.database_ok()
    return StatusResponse(
        status="success" if ok else "failure",
        database="ok" if ok else "unavailable",
        version=__version__,
    )
