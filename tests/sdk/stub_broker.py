"""A scripted HTTP server for answers a healthy LogQueue never gives (5xx, silence, the old
single-message consume), so retry and fallback rules are tested over real sockets."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.sdk.background_server import BackgroundServer

SILENCE = None


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: dict[str, Any] | str | None = field(default_factory=dict)
    """A JSON object, raw text, or ``SILENCE``: hold the request open until the stub stops."""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any = None
    """The request's JSON body, decoded (None for a GET)."""


class StubBroker(BackgroundServer):
    """Answers each ``"METHOD /path"`` from its script in turn; the last answer repeats."""

    def __init__(self, script: dict[str, list[Answer]]) -> None:
        self.seen: list[Seen] = []
        self._script = {key: list(answers) for key, answers in script.items()}
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    def count(self, method: str, path: str) -> int:
        return sum(1 for s in self.seen if (s.method, s.path) == (method, path))

    def bodies(self, method: str, path: str) -> list[Any]:
        return [s.body for s in self.seen if (s.method, s.path) == (method, path)]

    def answer(self, method: str, url: str, body: Any = None) -> Answer:
        parts = urlsplit(url)
        with self._lock:
            self.seen.append(Seen(method, parts.path, parse_qs(parts.query), body))
            answers = self._script.get(f"{method} {parts.path}")
            if not answers:
                return Answer(404, {"status": "failure", "message": "Not Found"})
            return answers.pop(0) if len(answers) > 1 else answers[0]


def _handler(stub: StubBroker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._reply()

        def do_POST(self) -> None:
            payload = self.rfile.read(int(self.headers.get("content-length", 0)))
            self._reply(json.loads(payload) if payload else None)

        def _reply(self, body: Any = None) -> None:
            answer = stub.answer(self.command, self.path, body)
            if answer.body is SILENCE:
                stub.wait_released()
                return
            is_json = isinstance(answer.body, dict)
            payload = (json.dumps(answer.body) if is_json else str(answer.body)).encode()
            self.send_response(answer.status)
            self.send_header("content-type", "application/json" if is_json else "text/html")
            self.send_header("content-length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output clean."""

    return Handler
