"""App factory: ``create_app(settings)`` owns the engine, the queue service and its metrics."""

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app import __version__
from app.api import (
    browse,
    consumer,
    groups,
    metrics,
    producer,
    stats,
    status,
    stream,
    topics,
    ui,
)
from app.api.auth import KEY_GUARD
from app.api.body_limit import BodySizeLimit
from app.api.errors import CatchUnexpected, add_exception_handlers
from app.api.openapi import customise_openapi, operation_id
from app.api.telemetry import RequestTelemetry
from app.database import migrate, open_pools
from app.metrics import Metrics
from app.service import QueueService
from app.service.browser import LogBrowser
from app.service.caller import KeyRing
from app.service.groups import GroupService
from app.service.idle_clients import IdlePolicy
from app.service.retention import RetentionEnforcer
from app.service.stats import ThroughputStats
from app.service.streams import LogStreams
from app.settings import Settings
from app.shutdown import on_exit_signal
from app.storage import create_group_repository, create_repository
from app.storage.listener import ProduceListener
from app.storage.log_reads import LogReader
from app.storage.stats import StatsRepository

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    telemetry = Metrics(max_lag_series=settings.metrics_max_lag_series)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pools = await open_pools(settings)
        engine = pools.engine
        if settings.migrate_on_start:
            await migrate(engine, settings)
        process_tag = secrets.token_hex(8)
        repository = create_repository(pools, notify_tag=process_tag)
        service = QueueService.from_settings(repository, settings, observer=telemetry)
        app.state.service = service
        reader = LogReader(engine)
        app.state.browser = LogBrowser(reader, max_bytes=settings.max_batch_bytes)
        throughput = ThroughputStats(
            StatsRepository(engine), interval_s=settings.rate_sample_s, stop=service.stopping
        )
        app.state.stats = throughput
        app.state.streams = LogStreams(
            reader,
            service.wakeups,
            service.stopping,
            max_streams=settings.max_streams,
            batch_size=settings.max_batch,
            max_bytes=settings.max_batch_bytes,
            keepalive_s=settings.stream_keepalive_s,
            max_s=settings.stream_max_s,
        )
        app.state.groups = GroupService(
            create_group_repository(pools, notify_tag=process_tag),
            service.wakeups,
            max_batch=settings.max_batch,
        )
        telemetry.watch_pool(pools.checked_out)
        telemetry.watch_long_poll_waiters(lambda: service.wakeups.waiting)
        listener = None
        if not settings.is_sqlite:  # SQLite serves one process: in-process wake-ups suffice
            wakeups = service.wakeups
            listener = ProduceListener(
                settings.database_url, process_tag, wakeups.notify, wakeups.notify_all
            )
            await listener.start(ready_timeout=settings.connect_timeout)
        retention = asyncio.create_task(
            RetentionEnforcer(
                repository,
                interval_s=settings.retention_interval_s,
                batch_size=settings.retention_batch_size,
                stop=service.stopping,
                idle=IdlePolicy.from_seconds(settings.idle_client_ttl),
            ).run()
        )
        sampling = asyncio.create_task(throughput.run())
        try:
            with on_exit_signal(service.begin_shutdown):
                yield
        finally:
            # uvicorn has stopped accepting and waited for in-flight requests by now.
            await service.shutdown()
            await retention
            await sampling
            if listener is not None:
                await listener.stop()
            await pools.close()
            logger.info("shutdown complete")

    # Swagger UI and ReDoc with their assets served by this server (from fastapi-offline),
    # not a CDN: the pages work without internet.
    app = FastAPIOffline(
        title="LogQueue",
        version=__version__,
        description="A durable HTTP log queue. Every consumer reads each topic's whole log "
        "in order, at its own offset.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.metrics = telemetry
    add_exception_handlers(app)
    app.add_middleware(CatchUnexpected)
    app.add_middleware(RequestTelemetry, metrics=telemetry)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    keys = KeyRing.from_settings(settings)
    app.state.keys = keys
    for module in (status, topics, producer, consumer, groups, stream, browse, stats, metrics):
        # Health checks and scrapers need no key. Every other route needs one when access
        # control is on, whether it reads the caller or not, so no route is left open by
        # mistake. With it off nothing can be refused: the guard is left out, because
        # FastAPI solves a dependency's whole tree on every request even when an endpoint
        # already asked for the same caller.
        open_module = module in (status, metrics) or not keys.enabled
        guard = [] if open_module else KEY_GUARD
        app.include_router(module.router, dependencies=guard)
    ui.mount(app)
    customise_openapi(app, max_batch=settings.max_batch, access_control=keys.enabled)
    return app


app = create_app()
