"""uvicorn's httptools protocol with a bound on the request line and headers.

httptools (llhttp) has no limit of its own: it gathers a header of any length in memory
before uvicorn sees it (a 137 MB header grew a server by 200 MB). h11 has one, and uvicorn
passes it ``h11_max_incomplete_event_size``; this protocol honours the same setting, so
``LOGQUEUE_MAX_HEADER_BYTES`` holds whichever parser serves.
"""

import asyncio
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.errors import HeadersTooLarge

DEFAULT_LIMIT = 64 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the bytes received while a request's head is incomplete.

    The parser does not say where in a chunk the head ends, so a chunk that begins a
    request (after the previous one's body, when requests are pipelined) is not counted:
    the bound holds to within one read (at most 256 KiB), never by counting a body.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_limit = config.h11_max_incomplete_event_size or DEFAULT_LIMIT
        self._head_bytes = 0
        self._in_head = False
        self._began_in_chunk = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._began_in_chunk, self._head_bytes = True, True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        self._began_in_chunk = False
        super().data_received(data)
        if self._in_head and not self._began_in_chunk and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self._head_limit:
                self._refuse()

    def _refuse(self) -> None:
        error = HeadersTooLarge(self._head_limit)
        body = orjson.dumps(error.body())
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()
