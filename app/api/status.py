from fastapi import APIRouter, Response

from app import __version__
from app.api.deps import ServiceDep
from app.schemas import StatusResponse

router = APIRouter(tags=["status"])


@router.get(
    "/status",
    summary="Liveness and database health (503 while the database is unreachable)",
    responses={503: {"model": StatusResponse, "description": "Database unavailable"}},
)
async def status(service: ServiceDep, response: Response) -> StatusResponse:
    ok = await service.database_ok()
    if not ok:
        response.status_code = 503
        response.headers["Retry-After"] = "1"
    return StatusResponse(
        status="success" if ok else "failure",
        database="ok" if ok else "unavailable",
        version=__version__,
    )
