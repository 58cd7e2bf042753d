"""App factory: ``create_app(settings)`` owns the engine, the queue service and its metrics."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import consumer, metrics, producer, status, topics
from app.api.middleware import RequestTelemetry
from app.database import create_engine, migrate
from app.errors import add_exception_handlers
from app.metrics import Metrics
from app.service import QueueService
from app.service.retention import RetentionEnforcer
from app.settings import Settings
from app.shutdown import on_exit_signal
from app.storage import QueueRepository

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    telemetry = Metrics(max_lag_series=settings.metrics_max_lag_series)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        if settings.migrate_on_start:
            await migrate(engine, settings)
        repository = QueueRepository(engine)
        service = QueueService(
            repository, max_message_bytes=settings.max_message_bytes, observer=telemetry
        )
        app.state.service = service
        telemetry.watch_pool(engine.pool.checkedout)  # type: ignore[attr-defined]
        retention = asyncio.create_task(
            RetentionEnforcer(
                repository,
                interval_s=settings.retention_interval_s,
                batch_size=settings.retention_batch_size,
                stop=service.stopping,
            ).run()
        )
        try:
            with on_exit_signal(service.begin_shutdown):
                yield
        finally:
            # uvicorn has stopped accepting and waited for in-flight requests by now.
            await service.shutdown()
            await retention
            await engine.dispose()
            logger.info("shutdown complete")

    app = FastAPI(
        title="LogQueue",
        version=__version__,
        description="A durable HTTP log queue. Every consumer reads each topic's whole log "
        "in order, at its own offset.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = telemetry
    add_exception_handlers(app)
    app.add_middleware(RequestTelemetry, metrics=telemetry)
    for module in (status, topics, producer, consumer, metrics):
        app.include_router(module.router)
    return app


app = create_app()
