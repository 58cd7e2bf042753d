"""All server configuration, read from ``LOGQUEUE_*`` environment variables."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, FilePath, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """One place for every knob, so tests can build an app with their own values."""

    model_config = SettingsConfigDict(env_prefix="LOGQUEUE_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./logqueue.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    )
    pool_size: int = Field(default=20, ge=1, description="Database connections kept open.")
    # No overflow by default: an overflow connection is closed when it is handed back, so
    # under steady load above the pool size every request paid for a new TLS connection.
    max_overflow: int = Field(default=0, ge=0, description="Extra connections under bursts.")
    pool_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a connection.")
    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to open a connection.")
    max_message_bytes: int = Field(default=1024 * 1024, ge=1, description="UTF-8 size limit.")
    max_request_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Request body limit (413 above it)."
    )
    max_batch: int = Field(default=1000, ge=1, description="Messages per batch produce/consume.")
    max_batch_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1,
        description="Bytes of message bodies per batch consume (at least one message).",
    )
    max_waiters: int = Field(default=10_000, ge=0, description="Concurrent long polls (then 429).")
    cache_entries: int = Field(
        default=100_000, ge=1, description="Entries in each per-process cache of ids (LRU)."
    )
    max_waiters_per_consumer: int = Field(
        default=100, ge=1, description="Concurrent long polls on one consumer id (then 429)."
    )
    max_streams: int = Field(default=1000, ge=0, description="Open event streams (then 429).")
    stream_keepalive_s: float = Field(
        default=15.0, gt=0, description="Seconds between keep-alive comments on an idle stream."
    )
    stream_max_s: float | None = Field(
        default=None,
        gt=0,
        description="Seconds after which a stream is ended; clients resume by Last-Event-ID.",
    )
    rate_sample_s: float = Field(
        default=10.0, gt=0, description="Seconds between two samples of every topic's counters."
    )
    migrate_on_start: bool = Field(default=True, description="Run `alembic upgrade head` on start.")
    alembic_config: Path = Field(
        default=PROJECT_ROOT / "alembic.ini",
        description="alembic.ini used for start-up migrations.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes (PostgreSQL).")
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        default="info", description="Level of the JSON log lines on stderr."
    )
    access_log: bool = Field(
        default=False, description="Also emit uvicorn's access log (the JSON request log is kept)."
    )
    # What uvicorn itself enforces. Slow-client protection (a header sent a byte at a time)
    # belongs to a reverse proxy in front; these only bound what one process takes on.
    limit_concurrency: int = Field(
        default=4096, ge=1, description="Open connections and requests per process (then 503)."
    )
    timeout_keep_alive_s: int = Field(
        default=5, ge=1, description="Seconds an idle keep-alive connection stays open."
    )
    http_parser: Literal["auto", "h11", "httptools"] = Field(
        default="auto",
        description="uvicorn's HTTP implementation (auto: httptools if installed, else h11).",
    )
    max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Request line and headers (then 431, h11: 400)."
    )
    # Whole seconds: uvicorn's graceful-shutdown timeout is an int.
    shutdown_timeout_s: int = Field(
        default=30, ge=1, description="How long SIGTERM waits for in-flight requests."
    )
    retention_interval_s: float = Field(
        default=10.0, gt=0, description="Pause between two retention passes over the topics."
    )
    retention_batch_size: int = Field(
        default=1000, ge=1, description="Expired messages deleted per transaction."
    )
    idle_client_ttl: float | None = Field(
        default=None,
        ge=0,
        description="Seconds a producer or consumer may go unused before the retention task "
        "removes it (unset or 0: never).",
    )
    metrics_max_lag_series: int = Field(
        default=500, ge=1, description="Consumers (largest lag first) exported by /metrics."
    )
    # Secret, so neither a repr of the settings nor a validation error can print a key.
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated API keys ('admin:<key>' for admin keys); none: auth off.",
    )
    api_keys_file: FilePath | None = Field(
        default=None, description="A file of API keys, one per line ('#' comments)."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        """Operators write INFO as often as info."""
        return value.lower() if isinstance(value, str) else value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """An environment variable holds one string: ``admin:k1,k2``."""
        if isinstance(value, str):
            return [entry.strip() for entry in value.split(",") if entry.strip()]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
