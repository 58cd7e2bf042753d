from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import MetricsDep, ServiceDep
from app.api.openapi import responses

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        **responses(),
    },
)
async def metrics(service: ServiceDep, telemetry: MetricsDep) -> Response:
    lag = await service.consumer_lag(telemetry.max_lag_series)
    return Response(telemetry.render(lag), media_type=CONTENT_TYPE_LATEST)
