"""Schemathesis against the app's own OpenAPI schema, sent to a live server over
PostgreSQL: every operation, generated valid and invalid requests; no 500, and every
response matches what the schema documents."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app.main import create_app
from app.settings import Settings
from tests.live_server import LiveServer

pytestmark = pytest.mark.postgres_only

# The SSE stream answers a valid request with a response that never ends, which the fuzzer
# would wait on forever; its refusals are in test_bad_input.py, its events in test_stream.py.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi()).exclude(
    path="/topics/{topic}/stream"
)


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, live_server: LiveServer
) -> None:
    case.call_and_validate(base_url=live_server.url)
