"""Domain errors and the one place that turns every error into LogQueue's JSON shape.

Services raise these; only ``add_exception_handlers`` knows about HTTP.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

logger = logging.getLogger(__name__)


class LogQueueError(Exception):
    """Base for every error a client can cause; ``status_code`` is its HTTP mapping."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TopicNotFound(LogQueueError):
    status_code = 404

    def __init__(self, topic: str) -> None:
        super().__init__(f"Topic '{topic}' does not exist")


class TopicExists(LogQueueError):
    status_code = 409

    def __init__(self, topic: str) -> None:
        super().__init__(f"Topic '{topic}' already exists")


class ProducerNotFound(LogQueueError):
    status_code = 404

    def __init__(self, producer_id: int) -> None:
        super().__init__(f"Producer {producer_id} is not registered")


class ConsumerNotFound(LogQueueError):
    status_code = 404

    def __init__(self, consumer_id: int) -> None:
        super().__init__(f"Consumer {consumer_id} is not registered")


class WrongTopic(LogQueueError):
    """An id used on a topic it was not registered for: ids are per-topic credentials."""

    status_code = 403

    def __init__(self, role: str, client_id: int, topic: str) -> None:
        super().__init__(f"{role.capitalize()} {client_id} is not registered for topic '{topic}'")


class Unauthenticated(LogQueueError):
    """Access control is on and the request carries no known API key."""

    status_code = 401


class Forbidden(LogQueueError):
    """A known API key asking for what it may not do (an admin action, another key's id)."""

    status_code = 403


class MessageTooLarge(LogQueueError):
    status_code = 413

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"Message is {size} bytes; the limit is {limit} bytes")


class InvalidRequest(LogQueueError):
    """A well-formed request whose value breaks a configured limit; ``field`` names it."""

    status_code = 422

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"Invalid request: {field}: {problem}")
        self.field = field
        self.problem = problem


class BatchTooLarge(LogQueueError):
    status_code = 413

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"Batch has {count} messages; the limit is {limit}")


class TooManyWaiters(LogQueueError):
    """Long polls hold memory and a request slot each, so their number is capped."""

    status_code = 429

    def __init__(self, limit: int) -> None:
        super().__init__(f"Too many long polls are waiting (limit {limit}); retry shortly")


class TooManyStreams(LogQueueError):
    """Each open stream holds a connection and a task, so their number is capped."""

    status_code = 429

    def __init__(self, limit: int) -> None:
        super().__init__(f"Too many streams are open (limit {limit}); retry shortly")


class SequenceConflict(LogQueueError):
    """An idempotent produce whose sequence is neither the next one nor a repeat of the last."""

    status_code = 409

    def __init__(self, producer_id: int, sequence: int, expected: int) -> None:
        super().__init__(
            f"Sequence {sequence} is out of order for producer {producer_id}; "
            f"expected {expected} (or {expected - 1} to repeat the last produce)"
            if expected > 0
            else f"Sequence {sequence} is out of order for producer {producer_id}; expected 0"
        )


class StorageUnavailable(LogQueueError):
    """The database cannot be reached right now; the request is safe to retry later."""

    status_code = 503
    retry_after_seconds = 1

    def __init__(self, detail: str) -> None:
        super().__init__(f"Database unavailable, retry shortly ({detail})")


def failure(
    status_code: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        {"status": "failure", "message": message, **extra},
        status_code=status_code,
        headers=headers,
    )


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Keep location, text and type; drop the echoed input, which may be huge."""
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
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


def add_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(LogQueueError)
    async def domain_error(_request: Request, exc: LogQueueError) -> JSONResponse:
        if isinstance(exc, StorageUnavailable):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
            return failure(exc.status_code, exc.message, headers=headers)
        if isinstance(exc, Unauthenticated):
            return failure(exc.status_code, exc.message, headers={"WWW-Authenticate": "Bearer"})
        if isinstance(exc, InvalidRequest):
            error = {"loc": [exc.field], "msg": exc.problem, "type": "value_error"}
            return failure(exc.status_code, exc.message, errors=[error])
        return failure(exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in errors
        )
        return failure(422, f"Invalid request: {summary}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = exc.headers
        if exc.status_code == 400:  # FastAPI could not decode the body (not UTF-8 JSON)
            problem = "the body is not valid UTF-8 JSON"
            return failure(
                422,
                f"Invalid request: {problem}",
                errors=[{"loc": ["body"], "msg": problem, "type": "json_invalid"}],
            )
        if exc.status_code == 405:
            headers = {"Allow": ", ".join(_allowed_methods(request))}
        return failure(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return failure(500, "Internal server error")
