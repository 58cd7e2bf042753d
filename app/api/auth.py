"""Bearer API keys over HTTP: who the request's caller is (``app.api.openapi`` documents it).

The rules (admin keys, ids bound to keys) live in the service; this only reads the header.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.service.caller import Caller, KeyRing

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="APIKey",
    description="An API key from LOGQUEUE_API_KEYS or LOGQUEUE_API_KEYS_FILE "
    "(only when the server has access control on).",
)


async def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """Async on purpose: a plain function dependency would cost a thread hop per request."""
    keys: KeyRing = request.app.state.keys
    return keys.caller(None if credentials is None else credentials.credentials)


CallerDep = Annotated[Caller, Depends(get_caller)]
