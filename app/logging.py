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
    """One line per request goes through here, so the time is formatted from a per-second
    cache rather than through ``datetime`` each time."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()

    def _time(self, created: float) -> str:
        """What ``datetime.isoformat(timespec="milliseconds")`` gives in UTC,
        ``2026-12-02T11:42:16.123+00:00``: rounded to the microsecond, then truncated."""
        second = int(created)
        micros = round((created - second) * 1_000_000)
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        if second != self._second:
            self._second = second
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{micros // 1000:03d}+00:00"


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
