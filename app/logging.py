"""Structured logs: one JSON object per line on stderr, for log shippers to parse.

Each HTTP request gets a dict of fields in a context variable; code deeper down (the queue
service) adds to it with ``bind_log_fields`` and the request middleware writes it out as
one line when the response is sent. Message bodies never go in.
"""

import logging
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

import orjson

REQUEST_LOGGER = "logqueue.request"

_request_fields: ContextVar[dict[str, Any] | None] = ContextVar("request_fields", default=None)

# Attributes every LogRecord has; anything else on a record came in through ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(level: str) -> dict[str, Any]:
    """A ``dictConfig`` for uvicorn's ``log_config``: everything as JSON through the root."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            # One line per Alembic plugin at every start-up says nothing an operator needs.
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def start_request_fields() -> tuple[dict[str, Any], Token[dict[str, Any] | None]]:
    """Give the current request its own field dict; returns it and the reset token."""
    fields: dict[str, Any] = {}
    return fields, _request_fields.set(fields)


def end_request_fields(token: Token[dict[str, Any] | None]) -> None:
    _request_fields.reset(token)


def bind_log_fields(**fields: Any) -> None:
    """Add fields to the current request's log line; a no-op outside a request."""
    current = _request_fields.get()
    if current is not None:
        current.update(fields)
