"""What the OpenAPI document says beyond what each route declares, in one place.

Routes list the domain errors they can raise (``responses(TopicNotFound, ...)``); this module
turns them into documented responses with their codes, names operations ``<tag>-<name>``,
and patches in what depends on settings: the batch limit and whether API keys are asked for.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.errors import (
    Forbidden,
    InternalError,
    InvalidRequest,
    LogQueueError,
    RequestTooLarge,
    StorageUnavailable,
    Unauthenticated,
)
from app.schemas import Failure, ValidationFailure

# Any route can answer these: a bad or oversized request, the database gone, a bug.
COMMON_ERRORS: tuple[type[LogQueueError], ...] = (
    InvalidRequest,
    RequestTooLarge,
    StorageUnavailable,
    InternalError,
)
ACCESS_ERRORS: tuple[type[LogQueueError], ...] = (Unauthenticated, Forbidden)
CONSUME_PATH = "/consumer/consume"


def operation_id(route: APIRoute) -> str:
    """``topics-create_topic``, ``consumer-consume``: readable names for generated clients.
    (Untagged routes, such as the docs' own assets, are not in the schema.)"""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def responses(*errors: type[LogQueueError]) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: one entry per status, listing the codes the route (and any
    route) can answer with there."""
    by_status: dict[int, list[type[LogQueueError]]] = {}
    for error in dict.fromkeys((*errors, *COMMON_ERRORS)):
        by_status.setdefault(error.status_code, []).append(error)
    return {
        status: {
            "model": ValidationFailure if InvalidRequest in group else Failure,
            "description": _describe(group),
            "content": {"application/json": {"examples": _examples(group)}},
        }
        for status, group in sorted(by_status.items())
    }


def _describe(errors: list[type[LogQueueError]]) -> str:
    return "\n".join(f"- `{error.code}`: {error.meaning}" for error in errors)


def _examples(errors: list[type[LogQueueError]]) -> dict[str, Any]:
    examples: dict[str, Any] = {}
    for error in errors:
        value: dict[str, Any] = {"status": "failure", "error": error.code, "message": "..."}
        if issubclass(error, InvalidRequest):
            value["errors"] = []
        examples[error.code] = {"summary": error.meaning, "value": value}
    return examples


def customise_openapi(app: FastAPI, *, max_batch: int, access_control: bool) -> None:
    """Install the settings-dependent parts; built once, on the first request for it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            _absent_not_null(schema)
            _document_batch_limit(schema, max_batch)
            _document_access(schema, access_control)
            app.openapi_schema = schema
        return app.openapi_schema

    # FastAPI documents replacing the method as the way to customise the schema; mypy
    # forbids assigning to a method in general.
    app.openapi = openapi  # type: ignore[method-assign]


def _document_batch_limit(schema: dict[str, Any], max_batch: int) -> None:
    """The batch limit is a setting, so the routes cannot declare it; generated clients (and
    fuzzers) learn the real bound from here."""
    for parameter in schema["paths"][CONSUME_PATH]["get"]["parameters"]:
        if parameter["name"] == "max_messages":
            parameter["schema"]["maximum"] = max_batch
    request = schema["components"]["schemas"]["ProduceRequest"]
    request["properties"]["messages"]["maxItems"] = max_batch
    fetch = schema["components"]["schemas"]["FetchRequest"]
    fetch["properties"]["max_messages"]["maximum"] = max_batch


def _absent_not_null(schema: dict[str, Any]) -> None:
    """An optional query parameter or header is left out, never sent as null: HTTP has no
    null there (``?from=null`` is the text "null"). Pydantic documents ``X | None`` as
    "X or null"; say "X", not required, so clients and fuzzers do not send "null"."""
    for operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            options = parameter["schema"].get("anyOf", [])
            kept = [option for option in options if option.get("type") != "null"]
            if not parameter.get("required") and len(kept) == 1 < len(options):
                rest = {k: v for k, v in parameter["schema"].items() if k != "anyOf"}
                parameter["schema"] = {**kept[0], **rest}


def _document_access(schema: dict[str, Any], enabled: bool) -> None:
    """Show the key scheme (with its 401 and 403) only when the server asks for keys, so
    Swagger UI offers "Authorize" exactly when it is needed."""
    for operation in _operations(schema):
        if "security" not in operation:
            continue
        if enabled:
            _add_errors(operation["responses"], ACCESS_ERRORS)
        else:
            del operation["security"]
    if not enabled:
        schema["components"].pop("securitySchemes", None)


def _add_errors(documented: dict[str, Any], errors: tuple[type[LogQueueError], ...]) -> None:
    for error in errors:
        entry = documented.setdefault(
            str(error.status_code),
            {
                "description": "",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/Failure"},
                        "examples": {},
                    }
                },
            },
        )
        entry["description"] = "\n".join(filter(None, (entry["description"], _describe([error]))))
        entry["content"]["application/json"].setdefault("examples", {}).update(_examples([error]))


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for path in schema["paths"].values() for operation in path.values()]
