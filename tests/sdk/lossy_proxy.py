"""A relay in front of a real server that loses answers: the request reaches the server and
is carried out, but the client never hears back. Only this proves that a produce stored
without an answer is not stored again when the client retries it."""

import json
import threading
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

import httpx

from tests.sdk.background_server import BackgroundServer


class LossyProxy(BackgroundServer):
    """Relays every request to ``upstream``; the answers to the first ``lose`` produces are
    dropped after the server has answered them (the connection is held until the proxy
    stops, so the client times out)."""

    def __init__(self, upstream: str, lose: int) -> None:
        self.produces: list[dict[str, Any]] = []
        self.lost: list[httpx.Response] = []
        self._upstream = httpx.Client(base_url=upstream, timeout=30)
        self._lose = lose
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    def relay(self, method: str, path: str, body: bytes) -> httpx.Response | None:
        """The upstream's answer, or None when this one is to be lost."""
        response = self._upstream.request(
            method, path, content=body or None, headers={"content-type": "application/json"}
        )
        if (method, path) != ("POST", "/producer/produce"):
            return response
        with self._lock:
            self.produces.append(json.loads(body))
            if len(self.lost) < self._lose:
                self.lost.append(response)
                return None
        return response

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        self._upstream.close()


def _handler(proxy: LossyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._relay(b"")

        def do_POST(self) -> None:
            self._relay(self.rfile.read(int(self.headers.get("content-length", 0))))

        def _relay(self, body: bytes) -> None:
            response = proxy.relay(self.command, self.path, body)
            if response is None:
                proxy.wait_released()
                return
            self.send_response(response.status_code)
            self.send_header("content-type", response.headers.get("content-type", "text/plain"))
            self.send_header("content-length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

    return Handler
