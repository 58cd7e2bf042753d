"""The id a producer or consumer holds on each topic."""

from collections.abc import Mapping

from logqueue_sdk import _base
from logqueue_sdk._base import Role

from ._primitives import Event, Lock
from .client import AsyncClient


class Registrations:
    """The id held for each topic, registering on first use (once per topic)."""

    def __init__(self, client: AsyncClient, role: Role, known: Mapping[str, int]) -> None:
        self._client = client
        self._role = role
        self._lock = Lock()
        self.ids: dict[str, int] = dict(known)

    async def register(self, topic: str, stop: Event) -> int:
        body = await self._client._request(_base.register_call(self._role, topic), stop)
        self.ids[topic] = _base.parse_id(body, self._role)
        return self.ids[topic]

    async def id_for(self, topic: str, stop: Event) -> int:
        async with self._lock:
            known = self.ids.get(topic)
            return known if known is not None else await self.register(topic, stop)
