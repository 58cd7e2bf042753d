"""SDK tests talk to a real ``logqueue serve`` (one per module, over PostgreSQL and SQLite)."""

import pytest

from tests.live_server import LiveServer
from tests.sdk.helpers import unique


@pytest.fixture
def broker(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture
def topic() -> str:
    return unique()
