"""The benchmark still runs end to end against the current API (``python -m bench --quick``).

It asserts that every figure was measured and nothing failed, never how fast anything was.
"""

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import postgres_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _postgres_answers(url: str) -> bool:
    async def probe() -> None:
        dsn = make_url(url).set(drivername="postgresql", database="postgres")
        conn = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


@pytest.fixture
def bench_database() -> str:
    """Next to the test database, so concurrent suites on other databases never collide."""
    url = postgres_url()
    if not _postgres_answers(url):
        reason = f"PostgreSQL at {make_url(url).render_as_string()} is not reachable"
        if os.environ.get("LOGQUEUE_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    if shutil.which("wrk") is None and os.geteuid() != 0:
        pytest.skip("wrk is not installed and only root can apt-get install it")
    return f"{make_url(url).database}_bench"


def test_quick_bench_measures_every_figure(bench_database: str, tmp_path: Path) -> None:
    markdown = tmp_path / "table.md"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--duration=1",
            f"--database={bench_database}",
            f"--markdown={markdown}",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    rows = [line for line in markdown.read_text().splitlines() if line.startswith("| ")][1:]
    figures = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    for expected in (
        "HTTP ceiling: POST produce",
        "DB ceiling: single-row INSERT",
        "single produce, 64 clients: msgs/s",
        "single consume, 64 consumers: p99",
        "batch produce",
        "batch consume",
        "end-to-end at 1,000 msgs/s, long poll: p50",
        "server RSS growth",
    ):
        assert any(f.startswith(expected) for f in figures), (expected, figures)
    for row in rows:
        for failure in ("n/a", "not measured", "non-2xx", "socket errors", "received"):
            assert failure not in row, row
