"""Service methods name their caller; these tests act as an admin of a server with access
control off, which is what every HTTP request is when no API keys are configured."""

from typing import Any

import orjson

from app.group_types import Fetched
from app.service.caller import UNRESTRICTED, Caller

ADMIN: Caller = UNRESTRICTED


def leased(found: Fetched) -> list[dict[str, Any]]:
    """A fetch's messages as the API sends them (the storage layer encodes them)."""
    messages: list[dict[str, Any]] = orjson.loads(found.messages.json)
    assert len(messages) == len(found.messages)
    return messages
