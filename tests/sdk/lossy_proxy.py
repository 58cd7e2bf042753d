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
    stops, so the client times out).

    With ``together``, the first produces are held until that many are in the relay at
    once (or ``TOGETHER_WAIT`` has passed): ``most_at_once`` then shows whether the
    client had that many on the wire."""

    TOGETHER_WAIT = 10.0

    def __init__(self, upstream: str, lose: int, together: int = 1) -> None:
        self.produces: list[dict[str, Any]] = []
        self.lost: list[httpx.Response] = []
        self.most_at_once = 0
        self._upstream = httpx.Client(base_url=upstream, timeout=30)
        self._lose = lose
        self._together = together
        self._inside = 0
        self._lock = threading.Condition()
        super().__init__(_handler(self))

    def relay(self, method: str, path: str, body: bytes) -> httpx.Response | None:
        """The upstream's answer, or None when this one is to be lost."""
        if (method, path) != ("POST", "/producer/produce"):
            return self._forward(method, path, body)
        with self._lock:
            self._inside += 1
            self.most_at_once = max(self.most_at_once, self._inside)
            self._lock.notify_all()
            self._lock.wait_for(lambda: self.most_at_once >= self._together, self.TOGETHER_WAIT)
        try:
            response = self._forward(method, path, body)
        finally:
            with self._lock:
                self._inside -= 1
        with self._lock:
            self.produces.append(json.loads(body))
            if len(self.lost) < self._lose:
                self.lost.append(response)
                return None
        return response

    def _forward(self, method: str, path: str, body: bytes) -> httpx.Response:
        return self._upstream.request(
            method, path, content=body or None, headers={"content-type": "application/json"}
        )

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
