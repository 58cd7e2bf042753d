"""A threaded HTTP server on a free loopback port, for the SDK tests' stand-ins (the scripted
stub and the lossy relay): started by ``with``, and on exit it first releases any request
it is holding open, so shutdown does not wait for them."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class BackgroundServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def wait_released(self) -> None:
        """Block a handler (a request held open) until the server stops."""
        self._release.wait()

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
