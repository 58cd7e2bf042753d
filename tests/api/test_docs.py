"""Swagger UI at /docs and ReDoc at /redoc work on a machine without internet."""

from tests.docs_pages import assert_docs_served_locally
from tests.live_server import LiveServer


def test_docs_pages_load_every_asset_from_the_server(live_server: LiveServer) -> None:
    assert_docs_served_locally(live_server.url)
