"""Reliability tests run real server processes on PostgreSQL and break things for real."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import Settings
from tests.conftest import clear_tables
from tests.live_server import LiveServer, start_server


@pytest.fixture
def fresh_pg(database_url: str) -> str:
    """The PostgreSQL test database with no topics; reliability tests own it while they run."""
    asyncio.run(clear_tables(Settings(database_url=database_url)))
    return database_url


@pytest.fixture
def two_servers(fresh_pg: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    first = start_server(fresh_pg, log_path=tmp_path / "first.log")
    try:
        second = start_server(fresh_pg, log_path=tmp_path / "second.log")
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()
