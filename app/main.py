"""App factory: ``create_app(settings)`` owns the engine and the queue service."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import consumer, producer, status, topics
from app.database import create_engine, migrate
from app.errors import add_exception_handlers
from app.middleware import BodySizeLimit
from app.service import QueueService
from app.settings import Settings
from app.storage import QueueRepository
from app.storage.listener import ProduceListener


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
        app.include_router(module.router)
    return app


app = create_app()
