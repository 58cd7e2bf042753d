"""Bearer API keys over HTTP: who the request's caller is, and how that is documented.

The rules (admin keys, ids bound to keys) live in the service; this only reads the header.
"""

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
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


def document_access(app: FastAPI, enabled: bool) -> None:
    """Show the key scheme (and its 401) in the schema only when the server asks for keys,
    so Swagger UI offers "Authorize" exactly when it is needed."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operation in _operations(schema):
                if "security" not in operation:
                    continue
                if enabled:
                    responses = operation["responses"]
                    responses["401"] = _failure("Missing or unknown API key")
                    responses.setdefault("403", _failure("Not allowed for this API key"))
                else:
                    del operation["security"]
            if not enabled:
                schema["components"].pop("securitySchemes", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _failure(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Failure"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for path in schema["paths"].values() for operation in path.values()]
