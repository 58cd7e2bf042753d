"""``--profile``: a py-spy flame graph of the server while a phase runs.

py-spy samples from outside the process without pausing it (``--nonblocking``), so the
profiled phase runs nearly as fast as an unprofiled one.
"""

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def py_spy_path() -> str:
    beside_python = Path(sys.executable).parent / "py-spy"
    found = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("--profile needs py-spy: pip install py-spy (in the dev extras)")
    return found


@contextmanager
def py_spy(pid: int, out: Path, *, seconds: float) -> Iterator[None]:
    """Record ``pid`` for ``seconds`` (the phase's length) into the SVG ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    recorder = subprocess.Popen(
        [
            py_spy_path(),
            "record",
            f"--pid={pid}",
            f"--duration={max(1, round(seconds))}",
            "--rate=100",
            "--nonblocking",
            f"--output={out}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        recorder.wait(timeout=seconds + 30)
