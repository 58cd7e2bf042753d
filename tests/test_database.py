"""Database URLs: libpq's multi-host form is read as SQLAlchemy's asyncpg dialect reads hosts."""

import pytest
from sqlalchemy.engine import make_url

from app.database import database_url, driver_connect_args

QUERY_FORM = (
    "postgresql+asyncpg://logqueue:logqueue@/logqueue"
    "?host=127.0.0.1:5441&host=127.0.0.1:5442&target_session_attrs=read-write"
)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://logqueue:logqueue@127.0.0.1:5441,127.0.0.1:5442/logqueue"
        "?target_session_attrs=read-write",
        QUERY_FORM,
    ],
)
def test_multi_host_url_connects_to_every_host_and_only_to_the_primary(url: str) -> None:
    assert driver_connect_args(url) == {
        "user": "logqueue",
        "password": "logqueue",
        "database": "logqueue",
        "host": ["127.0.0.1", "127.0.0.1"],
        "port": [5441, 5442],
        "target_session_attrs": "read-write",
    }


def test_libpq_form_is_rewritten_into_the_query_form() -> None:
    libpq = "postgresql+asyncpg://logqueue:logqueue@127.0.0.1:5441,127.0.0.1:5442/logqueue"
    assert database_url(libpq + "?target_session_attrs=read-write") == database_url(QUERY_FORM)


def test_host_without_port_gets_postgresqls_and_password_stays_encoded() -> None:
    parsed = database_url("postgresql+asyncpg://u:p%40ss@db1,db2:6432/queue")
    assert parsed.password == "p@ss"
    assert parsed.database == "queue"
    assert parsed.query == {"host": ("db1:5432", "db2:6432")}


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://logqueue:logqueue@127.0.0.1:5432/logqueue",
        "sqlite+aiosqlite:///./logqueue.db",
        "sqlite+aiosqlite:///:memory:",
    ],
)
def test_single_host_and_sqlite_urls_are_unchanged(url: str) -> None:
    assert database_url(url) == make_url(url)
