from collections.abc import AsyncIterator

import pytest

from app.database import create_engine
from app.service import QueueService
from app.settings import Settings
from app.storage import QueueRepository, create_repository


@pytest.fixture
async def repository(empty_db: Settings) -> AsyncIterator[QueueRepository]:
    engine = create_engine(empty_db)
    yield create_repository(engine)
    await engine.dispose()


@pytest.fixture
def service(repository: QueueRepository, empty_db: Settings) -> QueueService:
    return QueueService.from_settings(repository, empty_db)
