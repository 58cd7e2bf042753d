"""On SQLite a request waits for the one connection no longer than LOGQUEUE_POOL_TIMEOUT
(it waited SQLAlchemy's default of 30 s), then fails with a retryable 503."""

import asyncio
import time
from pathlib import Path

import pytest

from app.database import migrate, open_pools
from app.errors import StorageUnavailable
from app.service import QueueService
from app.settings import Settings
from app.storage import create_repository


async def test_a_request_waits_for_the_connection_no_longer_than_the_pool_timeout(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", pool_timeout=0.5)
    pools = await open_pools(settings)
    try:
        await migrate(pools.engine, settings)
        service = QueueService.from_settings(create_repository(pools), settings)
        async with pools.engine.connect():  # holds SQLite's only pooled connection
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                async with asyncio.timeout(10):  # the old code would hang here for 30 s
                    await service.list_topics()
            waited = time.monotonic() - started
        assert 0.4 <= waited < 3, waited
        assert await service.list_topics() == []  # the connection is free again
    finally:
        await pools.close()
