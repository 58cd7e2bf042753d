"""The image's own commands, run outside Docker: build the wheels as stage 1 does, install
only them into a fresh venv as stage 2 does, then start the ENTRYPOINT (migrations, then
the server) and ask it, and the HEALTHCHECK, whether it is up.

Slow (it builds every wheel), so it runs once, on SQLite, not once per backend.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.deploy.dockerfile import Rehearsal, Stage, env_pairs, exec_form, parse, rehearse
from tests.docs_pages import assert_docs_served_locally
from tests.live_server import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse((REPO / "Dockerfile").read_text())


def test_dockerfile_shape(stages: list[Stage]) -> None:
    build, runtime = stages
    assert build.name is not None
    assert runtime.base == "python:3.11-slim"
    assert runtime.one("USER").args.split(":")[0] not in ("root", "0")
    assert runtime.one("EXPOSE").args == "8000"
    env = {k: v for step in runtime.all("ENV") for k, v in env_pairs(step).items()}
    assert env["LOGQUEUE_HOST"] == "0.0.0.0"
    assert env["LOGQUEUE_MIGRATE_ON_START"] == "false"
    assert all(k.startswith(("LOGQUEUE_", "PYTHON")) for k in env)
    assert runtime.one("HEALTHCHECK").args.startswith("CMD ")


def test_image_commands_start_the_service(stages: list[Stage], tmp_path: Path) -> None:
    build, runtime = stages
    state = Rehearsal(root=tmp_path / "root")
    rehearse(build, state, context=REPO, pip=[sys.executable, "-m", "pip"])
    assert any(cmd[:2] == ["pip", "wheel"] for cmd in state.commands)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    image = Rehearsal(root=state.root)
    rehearse(runtime, image, context=REPO, pip=[str(python), "-m", "pip"])
    (install,) = image.commands
    assert install[:2] == ["pip", "install"] and "--no-index" in install  # the wheels alone
    installed = subprocess.run(
        [str(python), "-c", "import app; print(app.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert installed.startswith(str(venv)), installed

    port = free_port()
    env = {
        "PATH": os.pathsep.join(
            [str(venv / "bin"), str(image.path("/usr/local/bin")), "/usr/bin", "/bin"]
        ),
        "HOME": str(tmp_path),
        **{k: str(image.path(v)) if v.startswith("/") else v for k, v in image.env.items()},
        "LOGQUEUE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'image.db'}",
        "LOGQUEUE_PORT": str(port),
    }
    healthcheck = exec_form(runtime.one("HEALTHCHECK").args.removeprefix("CMD "))
    assert subprocess.run(healthcheck, env=env, cwd=image.path(image.workdir)).returncode != 0

    entrypoint = exec_form(runtime.one("ENTRYPOINT").args)
    command = [exec_form(c.args) for c in runtime.all("CMD")]
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        entrypoint + (command[0] if command else []),
        env=env,
        cwd=image.path(image.workdir),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for_status(url, server, tmp_path / "server.log")
        assert subprocess.run(healthcheck, env=env, cwd=image.path(image.workdir)).returncode == 0
        # The tables exist although the server itself was told not to migrate.
        created = httpx.post(url + "/topics", json={"topic_name": "from-image"})
        assert created.status_code == 200, created.text
        # Swagger UI and ReDoc assets come with the installed wheels, not from a CDN.
        assert_docs_served_locally(url)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def _wait_for_status(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, f"entrypoint exited {server.returncode}: {log.read_text()}"
        try:
            if httpx.get(url + "/status", timeout=1).json()["status"] == "success":
                return
        except httpx.TransportError:
            time.sleep(0.1)  # not listening yet: alembic and a cold venv take a moment
    pytest.fail(f"the image's entrypoint did not answer /status: {log.read_text()}")
