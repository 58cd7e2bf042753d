"""Start an anchor's server binary for one block and stop it whatever happens."""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.cpu import tree_cpu_seconds


class Missing(Exception):
    """The binary is not installed; the anchor is skipped with this message."""


@dataclass(frozen=True)
class Daemon:
    port: int
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)


def installed(binary: str) -> str:
    found = shutil.which(binary)
    if found is None:
        raise Missing(f"{binary} is not installed (make bench installs it with apt as root)")
    return found


@contextmanager
def running(command: list[str], port: int, log_path: Path) -> Iterator[Daemon]:
    """Run ``command`` until the block ends, once it accepts connections on ``port``."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(process, Path(command[0]).name, port, log_path)
        yield Daemon(port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(process: subprocess.Popen[bytes], name: str, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{log_path.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # not listening yet; start-up leaves nothing else to wait on
    raise TimeoutError(f"{name} did not listen on {port} within 30 s")
