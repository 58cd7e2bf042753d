"""Schemathesis against the app's own OpenAPI schema, sent to a live server over
PostgreSQL: every operation, generated valid and invalid requests; no 500, and every
response matches what the schema documents."""

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app.main import create_app
from app.settings import Settings
from tests.live_server import LiveServer, start_server

pytestmark = pytest.mark.postgres_only

schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@pytest.fixture(scope="module")
def fuzzed_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose event streams end after a moment: a valid stream request would
    otherwise be answered by a response that never ends, which the fuzzer would wait on."""
    server = start_server(
        database_url,
        log_path=tmp_path_factory.mktemp("fuzzed") / "log",
        LOGQUEUE_STREAM_MAX_S="0.2",
    )
    yield server
    server.stop()


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, fuzzed_server: LiveServer
) -> None:
    case.call_and_validate(base_url=fuzzed_server.url)
