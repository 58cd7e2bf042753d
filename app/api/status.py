from fastapi import APIRouter, Response

from app import __version__
from app.api.deps import ServiceDep
from app.api.openapi import responses
from app.errors import StorageUnavailable
from app.schemas import StatusResponse

router = APIRouter(tags=["status"])


@router.get(
    "/status",
    summary="Liveness and database health (503 while the database is unreachable)",
    responses={
        **responses(),
        503: {
            "model": StatusResponse,
            "description": f"`{StorageUnavailable.code}`: the database is unreachable",
        },
    },
    response_model_exclude_none=True,
)
async def status(service: ServiceDep, response: Response) -> StatusResponse:
    ok = await service.database_ok()
    if not ok:
        response.status_code = 503
        response.headers.update(StorageUnavailable.headers)
    return StatusResponse(
        status="success" if ok else "failure",
        error=None if ok else StorageUnavailable.code,
        database="ok" if ok else "unavailable",
        version=__version__,
    )
