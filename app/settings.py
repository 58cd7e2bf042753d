"""All server configuration, read from ``LOGQUEUE_*`` environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """One place for every knob, so tests can build an app with their own values."""

    model_config = SettingsConfigDict(env_prefix="LOGQUEUE_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./logqueue.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    )
    pool_size: int = Field(default=10, ge=1, description="Database connections kept open.")
    max_overflow: int = Field(default=10, ge=0, description="Extra connections under bursts.")
    pool_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a connection.")
    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to open a connection.")
    max_message_bytes: int = Field(default=1024 * 1024, ge=1, description="UTF-8 size limit.")
    max_request_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Request body limit (413 above it)."
    )
    max_batch: int = Field(default=1000, ge=1, description="Messages per batch produce/consume.")
    max_waiters: int = Field(default=10_000, ge=0, description="Concurrent long polls (then 429).")
    migrate_on_start: bool = Field(default=True, description="Run `alembic upgrade head` on start.")
    alembic_config: Path = Field(
        default=PROJECT_ROOT / "alembic.ini",
        description="alembic.ini used for start-up migrations.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
