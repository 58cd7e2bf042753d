"""Per-request telemetry: the latency histogram and the one JSON log line per request.

Plain ASGI rather than ``BaseHTTPMiddleware``, so responses are not re-wrapped and the
request runs in this task (the log-field context variable reaches the service). It runs on
every request, so it does the least it can: the metric series are looked up once per
(method, route, status), and the log record is built directly (``Logger.info`` would walk
the stack for a caller's file and line that the JSON line never shows).
"""

import logging
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.logging import REQUEST_LOGGER, end_request_fields, start_request_fields
from app.metrics import Metrics

logger = logging.getLogger(REQUEST_LOGGER)

UNMATCHED = "<unmatched>"


class RequestTelemetry:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering
        start = perf_counter()
        fields, token = start_request_fields()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            end_request_fields(token)
            elapsed = perf_counter() - start
            method, route = scope["method"], _route_template(scope)
            self._metrics.observe_request(method, route, status, elapsed)
            if logger.isEnabledFor(logging.INFO):
                _log_request(
                    {
                        "method": method,
                        "route": route,
                        "status": status,
                        "latency_ms": round(elapsed * 1000, 3),
                        **fields,
                    }
                )


def _log_request(fields: dict[str, Any]) -> None:
    record = logger.makeRecord(logger.name, logging.INFO, "", 0, "request", (), None, extra=fields)
    logger.handle(record)


def _route_template(scope: Scope) -> str:
    """``/topics/{name}``, not ``/topics/orders``: one series per route, not per topic.

    The router records the matched route in the scope; unknown paths share one label, so
    a scanner cannot create series.
    """
    route = scope.get("route")
    return getattr(route, "path", UNMATCHED)
