"""Dependencies injected into routers; the app factory owns the objects behind them."""

from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from app.metrics import Metrics
from app.schemas import ClientId, ConsumerRef, TopicName
from app.service import QueueService
from app.service.browser import LogBrowser
from app.service.stats import ThroughputStats
from app.service.streams import LogStreams


async def get_service(request: Request) -> QueueService:
    service: QueueService = request.app.state.service
    return service


ServiceDep = Annotated[QueueService, Depends(get_service)]


async def get_streams(request: Request) -> LogStreams:
    streams: LogStreams = request.app.state.streams
    return streams


StreamsDep = Annotated[LogStreams, Depends(get_streams)]


async def get_browser(request: Request) -> LogBrowser:
    browser: LogBrowser = request.app.state.browser
    return browser


BrowserDep = Annotated[LogBrowser, Depends(get_browser)]


async def get_stats(request: Request) -> ThroughputStats:
    stats: ThroughputStats = request.app.state.stats
    return stats


StatsDep = Annotated[ThroughputStats, Depends(get_stats)]


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]


async def consumer_ref(
    request: Request,
    topic: Annotated[TopicName | None, Query(include_in_schema=False)] = None,
    consumer_id: Annotated[ClientId | None, Query(include_in_schema=False)] = None,
) -> ConsumerRef:
    """Query parameters first; the original clients send a JSON body on GET instead."""
    fields: dict[str, Any] = {}
    if topic is None or consumer_id is None:
        fields.update(await _json_body(request))
    fields.update(request.query_params)
    try:
        return ConsumerRef.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "body is not valid JSON", "type": "json_invalid"}]
        ) from None
    if not isinstance(data, dict):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "body must be a JSON object", "type": "dict_type"}]
        )
    return data


ConsumerDep = Annotated[ConsumerRef, Depends(consumer_ref)]

# How ``consumer_ref`` is documented: both parameters required, as new clients send them.
# (The JSON-body fallback for old clients stays undocumented.)
CONSUMER_REF_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": name,
            "in": "query",
            "required": True,
            "schema": TypeAdapter(annotation).json_schema(),
        }
        for name, annotation in (("topic", TopicName), ("consumer_id", ClientId))
    ]
}
