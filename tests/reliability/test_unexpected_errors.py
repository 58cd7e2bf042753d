"""A 500 is logged once, and neither its answer nor its log repeats SQL parameters (they
can hold message bodies)."""

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from app.api.deps import get_service
from app.database import create_engine
from app.main import create_app
from app.settings import Settings

SECRET = "secret-message-body"


async def test_a_500_is_logged_once_without_sql_parameters(
    empty_db: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(empty_db)

    async def failing_service() -> AsyncIterator[None]:
        async with engine.connect() as conn:  # a real database error, raised by the engine
            await conn.execute(text("SELECT 1 / 0 WHERE :body <> ''"), {"body": SECRET})
        yield None

    app = create_app(empty_db)
    app.dependency_overrides[get_service] = failing_service
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                with caplog.at_level(logging.ERROR):
                    response = await client.get("/topics")
    finally:
        await engine.dispose()
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert SECRET not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert SECRET not in caplog.text
