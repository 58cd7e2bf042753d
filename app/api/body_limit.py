"""Request-size limit, enforced before a body is read whole.

A declared Content-Length over the limit is refused at once, unread. A body without one
(chunked) is buffered only up to the limit, then refused. A request with neither header has
no body (HTTP/1.1), so it passes straight through: most requests are GETs like that.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import failure_response
from app.errors import RequestTooLarge


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _body_headers(scope)
        if declared is not None:  # the HTTP server has already checked it is a number
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if not chunked:
            await self.app(scope, receive, send)
            return
        buffered = await self._read_up_to_limit(receive)
        if buffered is None:
            await self._refuse(scope, receive, send)
            return

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _read_up_to_limit(self, receive: Receive) -> list[Message] | None:
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await failure_response(RequestTooLarge(self.max_bytes))(scope, receive, send)


def _body_headers(scope: Scope) -> tuple[bytes | None, bool]:
    """Content-Length (if declared) and whether a Transfer-Encoding announces a body."""
    declared, chunked = None, False
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared = value
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked
