"""A real ``logqueue serve`` process on a free port, for tests that cross real HTTP."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.processes import default_signals


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal the server and reap it; one that does not exit in time is killed.

        The limit is the server's own graceful-shutdown time (30 s) plus a margin for a
        machine busy with other suites."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def log(self) -> str:
        """Everything the server wrote to stderr so far (its JSON log lines)."""
        return self.log_path.read_text()


def start_server(
    database_url: str, *, log_path: Path, port: int | None = None, **env: str
) -> LiveServer:
    """Start the server and return once ``/status`` answers (or fail with its output)."""
    port = port or free_port()
    environment = {
        **os.environ,
        "LOGQUEUE_DATABASE_URL": database_url,
        "LOGQUEUE_PORT": str(port),
        **env,
    }
    # A file, not a pipe: a busy server would block once a pipe nobody reads is full.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=default_signals,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    _wait_until_ready(server)
    return server


def _wait_until_ready(server: LiveServer, timeout: float = 120.0) -> None:
    """Imports alone take many seconds on a machine shared by several test suites, so the
    limit is generous: a server that is merely slow must not fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}: {server.log()}")
        try:
            if httpx.get(server.url + "/status", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # the socket is not open yet; nothing to wait on but time
    server.stop(signal.SIGKILL)
    raise TimeoutError(f"server at {server.url} did not start within {timeout}s")
