"""The HTTP load generator: wrk (C, epoll) driven by the Lua scripts in ``bench/lua``.

wrk runs in its own process and costs far less per request than the Python server it
loads, so the server, not the generator, sets the pace.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.server import Server

LUA_DIR = Path(__file__).resolve().parent / "lua"
RESULT_PREFIX = "BENCH_RESULT "


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    bad_status: int
    p50_ms: float
    p99_ms: float
    server_cpu_seconds: float
    messages: int = 0
    empties: int = 0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    def cpu_per_message_us(self, messages: int) -> float:
        return self.server_cpu_seconds / max(messages, 1) * 1e6


def ensure_wrk() -> str:
    """Install Debian's wrk on first use; refreshes the package lists only if apt asks."""
    found = shutil.which("wrk")
    if found:
        return found
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is still missing after apt-get install wrk")
    return found


def run_wrk(
    script: str,
    server: Server,
    path: str,
    *,
    connections: int,
    threads: int,
    seconds: float,
    args: list[str],
) -> WrkResult:
    """Run ``bench/lua/<script>.lua`` against ``server`` and parse what its ``done`` prints."""
    command = [
        ensure_wrk(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={script}.lua",
        server.url + path,
        "--",
        *args,
    ]
    cpu_before = server.cpu_seconds()
    # The scripts `require` their shared module from the working directory.
    finished = subprocess.run(command, cwd=LUA_DIR, capture_output=True, text=True, check=False)
    cpu = server.cpu_seconds() - cpu_before
    for line in finished.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return _parse(json.loads(line.removeprefix(RESULT_PREFIX)), cpu)
    raise RuntimeError(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")


def _parse(raw: dict[str, int], server_cpu_seconds: float) -> WrkResult:
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        errors=raw["errors"],
        bad_status=raw["bad_status"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        server_cpu_seconds=server_cpu_seconds,
        messages=raw.get("messages", 0),
        empties=raw.get("empties", 0),
    )
