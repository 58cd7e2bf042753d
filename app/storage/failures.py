"""Which database failures are the database's, not the client's: answer 503, never 500.

A lost or unusable connection, a database shutting down or starting up, a deadlock or a
serialization failure say nothing about the request; it is safe to retry (a transaction
that failed this way committed nothing), so it becomes ``StorageUnavailable`` (503 with
``Retry-After``). A connection that can not be used again is also thrown away instead of
going back to the pool, where it would fail the next request too.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.errors import StorageUnavailable

# Class 08: connection lost; 57P0x: shutting down or starting up; 40P01: deadlock (the
# victim's transaction was rolled back); 40001: serialization failure.
RETRY_LATER_SQLSTATES = ("08", "57P", "40P01", "40001")

# asyncpg errors after which a connection can not be used again: gone or refused, closed in
# the middle of an operation (ConnectionDoesNotExistError is an InterfaceError), or its
# protocol left mid-operation by a cut-off one (InternalClientError: "cannot switch to
# state …; another operation is in progress", seen when connections are terminated).
UNUSABLE_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)


# A new connection could not be opened or was lost: every host down or refusing, or every
# host of a multi-host URL answered but none is a primary (target_session_attrs=read-write):
# a failover is under way, and the next connection may find the new one.
CONNECT_FAILURES: tuple[type[Exception], ...] = (
    asyncpg.TargetServerAttributeNotMatched,
    *UNUSABLE_CONNECTION_ERRORS,
)


# Failures of the connection or the pool themselves, whatever the statement.
_UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    *CONNECT_FAILURES,
)


def retry_later(error: BaseException | None) -> bool:
    """A server error whose SQLSTATE says: not the request's fault, try again."""
    state = str(getattr(error, "sqlstate", None) or "")
    return state.startswith(RETRY_LATER_SQLSTATES)


def connection_unusable(error: BaseException | None) -> bool:
    """``error`` (or the driver error SQLAlchemy wrapped in it) leaves its connection dead."""
    if error is None:
        return False
    return any(isinstance(e, UNUSABLE_CONNECTION_ERRORS) for e in (error, error.__cause__))


def mark_unusable_connections(context: ExceptionContext) -> None:
    """SQLAlchemy ``handle_error`` hook: count every unusable-connection error as a
    disconnect, so SQLAlchemy invalidates the connection (and the pool's older ones, which
    a database restart or a mass termination has most likely killed too)."""
    if connection_unusable(context.original_exception):
        context.is_disconnect = True


@contextmanager
def unavailable_as_domain_error() -> Iterator[None]:
    """Failures that are the database's become ``StorageUnavailable``; everything else
    propagates unchanged (and is a 500: a bug to fix, not a condition to retry)."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StorageUnavailable(first_line(exc)) from exc
    except DBAPIError as exc:
        if (
            exc.connection_invalidated
            or retry_later(exc.orig)
            or connection_unusable(exc.orig)
            or isinstance(getattr(exc.orig, "__cause__", None), _UNAVAILABLE)
        ):
            raise StorageUnavailable(first_line(exc)) from exc
        raise


def first_line(exc: BaseException) -> str:
    """An error's message for a 503's detail: asyncpg's can run over several lines."""
    return (str(exc) or type(exc).__name__).splitlines()[0]
