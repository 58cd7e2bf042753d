"""``GET /topics/{topic}/stream``: a topic's messages as Server-Sent Events, read-only.

Each event's ``id`` is the message's offset, so a browser's ``EventSource`` (or any client
sending ``Last-Event-ID``) resumes after the last message it got.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from app.api.deps import StreamsDep
from app.api.disconnect import watch_disconnect
from app.api.openapi import responses
from app.errors import TooManyStreams, TopicNotFound
from app.schemas import TopicName
from app.service.streams import Stream, StreamStart

router = APIRouter(tags=["stream"])

KEEP_ALIVE = b": keep-alive\n\n"
EVENT_STREAM = "text/event-stream"


class EventStreamResponse(Response):
    """Sends the stream's events until the client leaves or the stream ends.

    Not Starlette's ``StreamingResponse``: that cancels its iterator when the client
    disconnects, wherever it is, including in the middle of a query. Here a disconnect
    only sets an event the stream checks between queries. The stream's slot is given back
    however the response ends.
    """

    media_type = EVENT_STREAM

    def __init__(self, stream: Stream) -> None:
        # Proxies must neither cache nor buffer a live stream.
        super().__init__(headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        del self.headers["content-length"]
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with watch_disconnect(receive) as gone:
            try:
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
                async for chunk in _events(self._stream, gone):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:
                pass  # the client went away while we wrote
            finally:
                self._stream.close()


@router.get(
    "/topics/{topic}/stream",
    summary="Tail a topic as Server-Sent Events (moves no consumer or group)",
    responses={
        200: {
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
            "description": 'Events `id: <offset>`, `data: {"offset", "message", "produced_at"}`; '
            "a `: keep-alive` comment when idle",
        },
        **responses(TopicNotFound, TooManyStreams),
    },
)
async def stream(
    topic: TopicName,
    streams: StreamsDep,
    start: Annotated[
        str,
        Query(
            alias="from",
            pattern=r"^(earliest|latest|[0-9]{1,18})$",
            description="`earliest`, `latest` (new messages only) or the first offset to send.",
        ),
    ] = "latest",
    last_event_id: Annotated[
        str | None,
        Header(
            pattern=r"^[0-9]{1,18}$",
            description="Resume after this offset (the last event's id); wins over `from`.",
        ),
    ] = None,
) -> Response:
    opened = await streams.open(topic, StreamStart.parse(start, last_event_id))
    return EventStreamResponse(opened)


async def _events(stream: Stream, gone: asyncio.Event) -> AsyncIterator[bytes]:
    async for batch in stream.batches(gone):
        if not batch:
            yield KEEP_ALIVE
            continue
        yield b"".join(
            b"id: %d\ndata: %s\n\n"
            % (
                m.offset,
                orjson.dumps(
                    {"offset": m.offset, "message": m.body, "produced_at": m.produced_at},
                    option=orjson.OPT_UTC_Z,
                ),
            )
            for m in batch
        )
