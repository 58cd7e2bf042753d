"""Reading Server-Sent Events off an httpx streaming response, for stream tests."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    id: int | None
    data: dict[str, Any] | None
    comment: str | None = None


async def events(response: httpx.Response) -> AsyncIterator[Event]:
    """Each event, and each comment line (keep-alives) as an event of its own."""
    event_id: int | None = None
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield Event(None, None, comment=line[1:].strip())
        elif line.startswith("id:"):
            event_id = int(line[3:].strip())
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield Event(event_id, json.loads("\n".join(data)))
            event_id, data = None, []


class EventReader:
    """One parser per response, kept across reads: abandoning httpx's line iterator part
    way closes the connection (and with it the stream)."""

    def __init__(self, response: httpx.Response) -> None:
        self._events = events(response)

    async def take(self, count: int) -> list[Event]:
        """The next ``count`` message events (keep-alives skipped)."""
        got: list[Event] = []
        while len(got) < count:
            event = await anext(self._events)
            if event.data is not None:
                got.append(event)
        return got

    async def next_event(self) -> Event:
        """The next event or comment."""
        return await anext(self._events)

    async def rest(self) -> list[Event]:
        """Everything until the server ends the stream."""
        return [event async for event in self._events]


async def take(response: httpx.Response, count: int) -> list[Event]:
    """The first ``count`` message events of a response that is read no further."""
    return await EventReader(response).take(count)
