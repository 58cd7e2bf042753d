"""The processes under test: PostgreSQL set-up, a fresh schema, and uvicorn servers.

The real server and the HTTP ceiling are started by the same function with the same
uvicorn flags, so they differ only in the application they serve.
"""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from app.cli import HTTP_PROTOCOLS
from app.logging import JsonFormatter, logging_config
from bench.cpu import tree_cpu_seconds

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = "logqueue:logqueue@127.0.0.1:5432"

# What `logqueue serve` runs by default: uvicorn's default loop, httptools with the header
# bound, the JSON log lines at info (the real server's one line per request), no access log.
UVICORN_FLAGS = (
    *("--host", "127.0.0.1", "--log-level", "info", "--no-access-log"),
    *("--http", HTTP_PROTOCOLS["auto"]),
)
STARTED = "Application startup complete"  # what each uvicorn worker logs once it serves


@dataclass(frozen=True)
class Database:
    """A PostgreSQL database the bench owns: it drops everything in it on every run."""

    name: str

    @property
    def dsn(self) -> str:
        return f"postgresql://{CREDENTIALS}/{self.name}"

    @property
    def url(self) -> str:
        """The server's ``LOGQUEUE_DATABASE_URL``."""
        return f"postgresql+asyncpg://{CREDENTIALS}/{self.name}"


def ensure_postgres(database: Database) -> None:
    """The project's own set-up script starts the cluster and creates the database."""
    env = {**os.environ, "LOGQUEUE_PG_DATABASES": database.name}
    subprocess.run(
        ["bash", str(PROJECT_ROOT / "scripts" / "dev-postgres.sh")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def reset_schema(database: Database) -> None:
    """Drop every table (and Alembic's version row) so the server migrates from scratch."""
    conn = await asyncpg.connect(database.dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User plus system CPU the server (all its workers) has used so far."""
        return tree_cpu_seconds(self.pid)

    def rss_bytes(self) -> int:
        """Resident memory now, from the kernel's own accounting of the process."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for pid {self.pid}")


@contextmanager
def serve(
    app: str, log_path: Path, *, workers: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """Run ``uvicorn <app>`` (``env`` added to ours) until the block ends; its output goes
    to ``log_path``."""
    port = free_port()
    flags = [*UVICORN_FLAGS, "--port", str(port), "--workers", str(workers)]
    flags += ["--log-config", str(_log_config(log_path.parent))]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", app, *flags],
            cwd=PROJECT_ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        _wait_until_ready(server, log_path, workers)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _log_config(directory: Path) -> Path:
    """``logging_config`` as a file uvicorn can load, the formatter named by its path."""
    config = logging_config("info")
    config["formatters"]["json"]["()"] = f"{JsonFormatter.__module__}.{JsonFormatter.__name__}"
    path = directory / "log-config.json"
    path.write_text(json.dumps(config))
    return path


def _wait_until_ready(server: Server, log_path: Path, workers: int, timeout: float = 60.0) -> None:
    """``/status`` answers 200 once start-up (and the migration) is done, and every worker
    has logged that its start-up is complete (the first one up answers alone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server exited with {server.process.returncode}:\n{log_path.read_text()}"
            )
        try:
            answered = httpx.get(server.url + "/status", timeout=1).status_code == 200
        except httpx.TransportError:
            answered = False
        if answered and log_path.read_text().count(STARTED) >= workers:
            return
        time.sleep(0.05)  # start-up leaves no other signal to wait on than polling
    raise TimeoutError(f"{server.url} did not start within {timeout}s; see {log_path}")
