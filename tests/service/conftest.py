from collections.abc import AsyncIterator

import pytest

from app.database import open_pools
from app.service import QueueService
from app.settings import Settings
from app.storage import QueueRepository, create_repository


@pytest.fixture
async def repository(empty_db: Settings) -> AsyncIterator[QueueRepository]:
    pools = await open_pools(empty_db)
    yield create_repository(pools)
    await pools.close()


@pytest.fixture
def service(repository: QueueRepository, empty_db: Settings) -> QueueService:
    return QueueService.from_settings(repository, empty_db)
