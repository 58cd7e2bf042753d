"""The one place that turns every failure into LogQueue's JSON shape.

Domain errors carry their status, code and headers, so their handler needs no knowledge of
the classes; what FastAPI and Starlette raise (validation, unknown paths, wrong methods,
undecodable bodies) is first translated into the matching domain error.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    InternalError,
    InvalidRequest,
    LogQueueError,
    MethodNotAllowed,
    NotFound,
)

logger = logging.getLogger(__name__)


def failure_response(exc: LogQueueError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=dict(exc.headers))


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Keep location, text and type; drop the echoed input, which may be huge (or bytes
    that are not UTF-8, which cannot even be encoded)."""
    return [
        {
            "loc": [p if isinstance(p, int | str) else str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]


def _allowed_methods(request: Request) -> list[str]:
    """Starlette lists only the first matching route's methods; a path served by several
    routes (GET and POST /topics) allows all of theirs."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _framework_error(request: Request, exc: StarletteHTTPException) -> LogQueueError:
    if exc.status_code == 400:  # FastAPI could not decode the body
        problem = _undecodable(exc.__cause__)
        error = {"loc": ["body"], "msg": problem, "type": "json_invalid"}
        return InvalidRequest(f"Invalid request: {problem}", [error])
    if exc.status_code == 405:
        return MethodNotAllowed(_allowed_methods(request), str(exc.detail))
    if exc.status_code == 404:  # a path no route takes, such as /consumer/-5
        return NotFound(f"No such path: {request.url.path[:200]}")
    # Nothing in LogQueue raises other framework errors; should one appear, it is a bug.
    logger.error("unexpected HTTP error %s: %s", exc.status_code, exc.detail)
    return InternalError()


def _undecodable(cause: BaseException | None) -> str:
    """Say why a body could not be decoded: depth and long numbers are limits, not typos."""
    if isinstance(cause, RecursionError):
        return "the body is nested too deeply"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "a number in the body has too many digits"
    return "the body is not valid UTF-8 JSON"


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(LogQueueError)
    async def domain_error(_request: Request, exc: LogQueueError) -> JSONResponse:
        return failure_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return failure_response(InvalidRequest.for_errors(_validation_errors(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return failure_response(_framework_error(request, exc))


class CatchUnexpected:
    """Answers an unexpected exception with a 500 and logs it once. (A handler for
    ``Exception`` would not do: Starlette re-raises after calling it, and uvicorn logs the
    same traceback a second time.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def note_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, note_start)
        except Exception:
            logger.exception("unhandled error")
            if scope["type"] == "http" and not started:
                await failure_response(InternalError())(scope, receive, send)
