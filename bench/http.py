"""A bare keep-alive HTTP/1.1 connection for the latency probe.

Against the HTTP ceiling app on this 2-core machine, one process with httpx managed only
500-1,100 requests a second (less with more connections), so an httpx probe would be
slower than the server it probes; this one managed 3,100-4,400. It only writes a request
and reads a ``Content-Length`` answer, which is all uvicorn sends for JSON.
"""

import asyncio
from urllib.parse import urlsplit


class HttpError(Exception):
    pass


class Connection:
    def __init__(self, host: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._host = host
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, url: str) -> "Connection":
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"{url} needs an explicit host and port")
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(parts.netloc, reader, writer)

    async def get(self, target: str) -> bytes:
        return await self._request(f"GET {target} HTTP/1.1\r\nHost: {self._host}\r\n\r\n".encode())

    async def post_json(self, target: str, body: bytes) -> bytes:
        head = (
            f"POST {target} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return await self._request(head.encode() + body)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()

    async def _request(self, raw: bytes) -> bytes:
        """Send one request and return the body of a 2xx answer."""
        self._writer.write(raw)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in header_lines if ": " in line)
        if "content-length" not in headers:
            raise HttpError(f"no Content-Length in the answer: {status_line}")
        body = await self._reader.readexactly(int(headers["content-length"]))
        status = int(status_line.split(" ", 2)[1])
        if not 200 <= status < 300:
            raise HttpError(f"{status_line}: {body.decode(errors='replace')}")
        return body
