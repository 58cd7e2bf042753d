"""What uvicorn enforces from settings: concurrency, idle keep-alive, header size. (A
header sent a byte at a time is a reverse proxy's job; see the README's deployment notes.)"""

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.live_server import LiveServer, start_server

pytestmark = pytest.mark.postgres_only

LIMIT = 8


@pytest.fixture(scope="module")
def guarded(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log_path: Path = tmp_path_factory.mktemp("guarded") / "log"
    server = start_server(
        database_url,
        log_path=log_path,
        LOGQUEUE_HTTP_PARSER="h11",
        LOGQUEUE_MAX_HEADER_BYTES="16384",
        LOGQUEUE_LIMIT_CONCURRENCY=str(LIMIT),
        LOGQUEUE_TIMEOUT_KEEP_ALIVE_S="1",
    )
    try:
        yield server
    finally:
        server.stop()


def address(server: LiveServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def test_a_huge_header_is_refused_by_h11(guarded: LiveServer) -> None:
    try:
        answer = httpx.get(guarded.url + "/status", headers={"X-Big": "x" * 1_000_000}, timeout=10)
        refused = answer.status_code
    except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError):
        refused = 400  # closed while the header was still being sent
    assert refused in (400, 431)
    assert httpx.get(guarded.url + "/status", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def default_parser(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The parser `logqueue serve` uses by default (httptools), with a 16 KiB head."""
    log_path: Path = tmp_path_factory.mktemp("default-parser") / "log"
    server = start_server(database_url, log_path=log_path, LOGQUEUE_MAX_HEADER_BYTES="16384")
    try:
        yield server
    finally:
        server.stop()


def rss_kb(server: LiveServer) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))


def test_a_huge_header_is_refused_by_the_default_parser_without_being_held(
    default_parser: LiveServer,
) -> None:
    before = rss_kb(default_parser)
    with socket.create_connection(address(default_parser), timeout=10) as connection:
        connection.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\nX-Big: ")
        answer = b""
        with contextlib.suppress(OSError):  # refused part way: the rest meets a closed socket
            for _ in range(64 * 16):  # up to 64 MiB, 64 KiB at a time
                connection.sendall(b"x" * 65536)
        with contextlib.suppress(OSError):
            while chunk := connection.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert orjson.loads(answer.split(b"\r\n\r\n", 1)[1])["error"] == "headers_too_large"
    assert rss_kb(default_parser) - before < 16 * 1024  # not the 64 MiB that was sent
    # Heads within the limit are served, and a large body is not counted as head.
    fine = httpx.get(default_parser.url + "/status", headers={"X-Ok": "y" * 8000}, timeout=10)
    assert fine.status_code == 200
    body = httpx.post(default_parser.url + "/producer/produce", content=b"x" * 1_000_000)
    assert body.json()["error"] == "invalid_request"


def test_connections_past_the_limit_get_503(guarded: LiveServer) -> None:
    idle = [socket.create_connection(address(guarded), timeout=10) for _ in range(LIMIT)]
    try:
        deadline = time.monotonic() + 10
        status = 0
        while time.monotonic() < deadline and status != 503:  # until uvicorn counts them all
            status = httpx.get(guarded.url + "/status", timeout=10).status_code
        assert status == 503
    finally:
        for connection in idle:
            connection.close()


def test_an_idle_keep_alive_connection_is_closed(guarded: LiveServer) -> None:
    with socket.create_connection(address(guarded), timeout=10) as connection:
        connection.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while not answer.endswith(b"}"):  # the /status body is one JSON object
            answer += connection.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert connection.recv(1) == b""  # the server closed it
        assert time.monotonic() - started < 4  # LOGQUEUE_TIMEOUT_KEEP_ALIVE_S=1 (default 5)
