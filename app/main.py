"""App factory: ``create_app(settings)`` owns the engine and the queue service."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app import __version__
from app.api import consumer, producer, status, topics
from app.database import create_engine, migrate
from app.errors import add_exception_handlers
from app.middleware import BodySizeLimit
from app.schemas import Failure, ValidationFailure
from app.service import QueueService
from app.settings import Settings
from app.storage import QueueRepository
from app.storage.listener import ProduceListener

# Failures any route can answer with, documented once (replaces FastAPI's default 422 body).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": Failure, "description": "Request body too large"},
    422: {"model": ValidationFailure, "description": "Malformed or missing fields"},
    503: {"model": Failure, "description": "Database unavailable; retry after Retry-After"},
}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        if settings.migrate_on_start:
            await migrate(engine, settings)
        process_tag = secrets.token_hex(8)
        service = QueueService.from_settings(
            QueueRepository(engine, notify_tag=process_tag), settings
        )
        listener = None
        if not settings.is_sqlite:  # SQLite serves one process: in-process wake-ups suffice
            wakeups = service.wakeups
            listener = ProduceListener(
                settings.database_url, process_tag, wakeups.notify, wakeups.notify_all
            )
            await listener.start(ready_timeout=settings.connect_timeout)
        app.state.service = service
        try:
            yield
        finally:
            service.shutdown()
            if listener is not None:
                await listener.stop()
            await engine.dispose()

    app = FastAPI(
        title="LogQueue",
        version=__version__,
        description="A durable HTTP log queue. Every consumer reads each topic's whole log "
        "in order, at its own offset.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    for module in (status, topics, producer, consumer):
        app.include_router(module.router, responses=COMMON_RESPONSES)
    _document_batch_limit(app, settings.max_batch)
    return app


def _document_batch_limit(app: FastAPI, max_batch: int) -> None:
    """The batch limit is a setting, so the routes cannot declare it; patch it into the
    schema once, so generated clients (and fuzzers) know the real bound."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            consume = schema["paths"]["/consumer/consume"]["get"]["parameters"]
            for parameter in consume:
                if parameter["name"] == "max_messages":
                    for option in parameter["schema"]["anyOf"]:
                        if option.get("type") == "integer":
                            option["maximum"] = max_batch
            request = schema["components"]["schemas"]["ProduceRequest"]
            request["properties"]["messages"]["maxItems"] = max_batch
        return app.openapi_schema or schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
