"""Child processes that tests start: they behave the same whoever started the suite.

A POSIX shell starts a background job (``make test &``, CI runners) with SIGINT ignored,
and a child inherits that. A test that interrupts its child with SIGINT would then wait
for an exit that never comes, so every child gets the default handler back.
"""

import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


def default_signals() -> None:
    """``preexec_fn`` for test children: SIGINT as if started from a terminal, so Python
    installs its KeyboardInterrupt handler in the child (uvicorn its shutdown)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def running(argv: Sequence[str], **popen: Any) -> Iterator[subprocess.Popen[str]]:
    """A child killed on the way out if it is still running, whatever the test did.

    ``Popen.__exit__`` alone waits for the child without a limit, which hangs the suite
    when a test fails before its child exits.
    """
    with subprocess.Popen(argv, preexec_fn=default_signals, text=True, **popen) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
