"""Bearer API keys over HTTP: who the request's caller is (``app.api.openapi`` documents it).

The rules (admin keys, ids bound to keys) live in the service; this only reads the header.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from app.service.caller import Caller, KeyRing

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="APIKey",
    description="An API key from LOGQUEUE_API_KEYS or LOGQUEUE_API_KEYS_FILE "
    "(only when the server has access control on).",
)


async def get_caller(request: Request) -> Caller:
    """Async on purpose: a plain function dependency would cost a thread hop per request.

    The header is read by calling ``bearer`` rather than depending on it: FastAPI solves
    every node of a dependency tree on every request (about 10 µs each), and this runs on
    every produce and consume. The scheme is documented by the guard (``app.main``) that
    access control adds to the routes, so OpenAPI shows it exactly when keys are asked for.
    """
    credentials = await bearer(request)
    keys: KeyRing = request.app.state.keys
    return keys.caller(None if credentials is None else credentials.credentials)


CallerDep = Annotated[Caller, Depends(get_caller)]

# Every guarded route's dependencies when access control is on: ``bearer`` puts the key
# scheme in the OpenAPI document, ``get_caller`` refuses a request without a known key.
KEY_GUARD = [Depends(bearer), Depends(get_caller)]
