"""SDK tests talk to a real ``logqueue serve`` (one per module, over PostgreSQL and SQLite)."""

import httpx
import pytest

from tests.live_server import LiveServer
from tests.sdk.helpers import unique


@pytest.fixture
def broker(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture
def topic() -> str:
    return unique()


@pytest.fixture(autouse=True)
def _skip_without_batch_api(request: pytest.FixtureRequest) -> None:
    """``needs_batch_api`` tests skip while the server has no batch produce / long-poll
    consume (the throughput issue), and run for real once it does."""
    if request.node.get_closest_marker("needs_batch_api") is None:
        return
    server: LiveServer = request.getfixturevalue("live_server")
    if "max_messages" not in httpx.get(server.url + "/openapi.json").text:
        pytest.skip("the server does not offer max_messages / batch produce yet")
