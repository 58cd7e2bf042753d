"""Every import points down: the service and storage layers load no web framework."""

import subprocess
import sys


def test_service_and_storage_import_no_web_framework() -> None:
    probe = (
        "import sys, app.service, app.storage, app.errors\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr
