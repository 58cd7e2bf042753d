"""Topic administration, and the one connection pool a producer or consumer talks through.

Request shapes, retry timing and answer parsing live in ``_base``; this is only the I/O.
"""

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

import httpx

from logqueue_sdk import _base, _groups_base
from logqueue_sdk._base import (
    DEFAULT_BROKER,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Call,
    RetryPolicy,
    StreamCursor,
    StreamStart,
)
from logqueue_sdk._groups_base import GroupInfo
from logqueue_sdk.errors import LogQueueError, Stopped, TopicExists
from logqueue_sdk.models import BrokerStatus, Message

from ._primitives import Event, sleep, wait


class AsyncClient:
    """Topic administration and the one connection pool a producer or consumer talks through.

    ``broker`` may omit the scheme (``localhost:8000``). Safe calls are retried with
    exponential backoff after connection errors and 5xx answers; ``retries`` is the number
    of repeats (or a ``RetryPolicy``). ``api_key`` (default: ``$LOGQUEUE_API_KEY``) is sent
    as a bearer token, for brokers with access control on.
    """

    def __init__(
        self,
        broker: str = DEFAULT_BROKER,
        *,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
    ) -> None:
        self.broker = _base.normalise_broker(broker)
        self._timeout = timeout
        self._policy = _base.as_policy(retries)
        headers = _base.auth_headers(api_key)
        self._http = httpx.AsyncClient(base_url=self.broker, timeout=timeout, headers=headers)

    async def status(self) -> BrokerStatus:
        """The broker's health; ``healthy`` is False when it cannot reach its database."""
        return _base.parse_status(await self._request(_base.status_call()))

    async def list_topics(self) -> list[str]:
        """All topic names, oldest first."""
        return _base.parse_topics(await self._request(_base.list_topics_call()))

    async def list_groups(self, topic: str) -> list[GroupInfo]:
        """The consumer groups of ``topic``, oldest first, with their counts."""
        return _groups_base.parse_groups(await self._request(_groups_base.list_groups_call(topic)))

    async def create_topic(self, name: str, *, exist_ok: bool = False) -> bool:
        """True if the topic was created; False if it existed and ``exist_ok``, else TopicExists."""
        try:
            await self._request(_base.create_topic_call(name))
        except TopicExists:
            if exist_ok:
                return False
            raise
        return True

    async def delete_producer(self, producer_id: int) -> None:
        """Remove a producer id for good (its messages stay); ``NotRegistered`` if unknown,
        ``AccessDenied`` unless this client's key registered it or is an admin key."""
        await self._request(_base.delete_client_call("producer", producer_id))

    async def delete_consumer(self, consumer_id: int) -> None:
        """Remove a consumer id and its position for good; its waiting reads end with
        ``NotRegistered``. Errors as for ``delete_producer``."""
        await self._request(_base.delete_client_call("consumer", consumer_id))

    async def stream(self, topic: str, *, start: StreamStart = "latest") -> AsyncIterator[Message]:
        """Every message of ``topic`` from ``start`` on, as it is produced (Server-Sent Events).

        ``start`` is ``"latest"`` (messages produced from now on), ``"earliest"`` or an
        offset. Read-only: no consumer moves. A dropped connection or a restarting broker is
        reconnected by itself, resuming right after the last message handed out, so none is
        lost or repeated; ``retries`` bounds the failed reconnections in a row. Runs until
        the caller stops iterating; raises ``TopicNotFound`` if the topic does not exist.
        """
        cursor = StreamCursor(topic, start)
        attempt = 0
        while True:
            call = cursor.call()
            try:
                async with self._http.stream(
                    call.method,
                    call.path,
                    params=call.params,
                    headers=cursor.headers(),
                    timeout=httpx.Timeout(self._timeout, read=_base.STREAM_READ_TIMEOUT),
                ) as response:
                    if response.status_code == 200:
                        attempt = 0
                        async for line in response.aiter_lines():
                            message = cursor.feed(line)
                            if message is not None:
                                yield message
                    else:
                        await response.aread()
            except httpx.TransportError as exc:
                delay = _base.retry_stream(self._policy, attempt, None)
                if delay is None:
                    raise _base.unavailable(self.broker, call, exc) from exc
            else:
                delay = _base.retry_stream(self._policy, attempt, response.status_code)
                if delay is None:
                    _base.interpret(response.status_code, response.content)
                    raise LogQueueError("The broker ended the stream", response.status_code)
            cursor.reconnecting()
            attempt += 1
            await sleep(delay)

    async def aclose(self) -> None:
        """Release the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        await self.aclose()

    async def _request(self, call: Call, stop: Event | None = None) -> dict[str, Any]:
        """Send ``call`` with the retries it allows; ``stop`` cuts a retry wait short."""
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    timeout=self._timeout + call.wait,
                )
            except httpx.TransportError as exc:
                delay = _base.retry_after_error(self._policy, call, attempt, exc)
                if delay is None:
                    raise _base.unavailable(self.broker, call, exc) from exc
            else:
                retry_after = response.headers.get("retry-after")
                delay = _base.retry_after_status(
                    self._policy, call, attempt, response.status_code, retry_after
                )
                if delay is None:
                    return _base.interpret(response.status_code, response.content)
            attempt += 1
            if stop is None:
                await sleep(delay)
            elif await wait(stop, delay):
                raise Stopped("stopped while waiting to retry")
