"""``logqueue serve`` refuses what it cannot serve before it starts anything."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live_server import free_port

LOGQUEUE = str(Path(sys.executable).parent / "logqueue")


@pytest.mark.parametrize(
    ("args", "env"),
    [([], {"LOGQUEUE_WORKERS": "2"}), (["--workers", "3"], {})],
    ids=["setting", "option"],
)
def test_several_workers_on_sqlite_are_refused(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    database = tmp_path / "refused.db"
    environment = {
        **os.environ,
        "LOGQUEUE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "LOGQUEUE_PORT": str(free_port()),
        **env,
    }
    refused = subprocess.run(
        [LOGQUEUE, "serve", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("error: ")
    assert "workers need PostgreSQL" in refused.stderr
    assert "LOGQUEUE_WORKERS=1" in refused.stderr
    assert not database.exists()  # refused before opening anything
