"""The domain module is shared by every layer, so it must not drag HTTP or SQL along."""

import subprocess
import sys


def test_domain_imports_no_web_framework_or_database_toolkit() -> None:
    probe = (
        "import sys, app.domain; "
        "print(sorted({m.split('.')[0] for m in sys.modules} "
        "& {'fastapi', 'starlette', 'sqlalchemy', 'asyncpg', 'aiosqlite', 'pydantic'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]"
