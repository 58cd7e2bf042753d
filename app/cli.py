"""The ``logqueue`` command: ``serve`` runs the server; client commands use the SDK."""

import json
import urllib.request

import typer
import uvicorn

from app import cli_client, cli_groups
from app.logging import logging_config
from app.settings import Settings

cli = typer.Typer(help="LogQueue: a durable HTTP log queue.", no_args_is_help=True)


# uvicorn's ``http=`` for each LOGQUEUE_HTTP_PARSER. httptools (installed with
# uvicorn[standard], so "auto" picks it) gets the header bound h11 has built in.
BOUNDED_HTTPTOOLS = "app.http_protocol:BoundedHttpToolsProtocol"
HTTP_PROTOCOLS = {"auto": BOUNDED_HTTPTOOLS, "httptools": BOUNDED_HTTPTOOLS, "h11": "h11"}


@cli.callback()
def root() -> None:
    """LogQueue: a durable HTTP log queue."""


@cli.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address [LOGQUEUE_HOST]."),
    port: int | None = typer.Option(None, help="Port [LOGQUEUE_PORT]."),
    workers: int | None = typer.Option(
        None, min=1, help="uvicorn worker processes, PostgreSQL only [LOGQUEUE_WORKERS]."
    ),
) -> None:
    """Start the server with the LOGQUEUE_* settings."""
    settings = Settings()
    processes = workers or settings.workers
    if processes > 1 and settings.is_sqlite:
        typer.echo(
            f"error: {processes} workers need PostgreSQL. SQLite serves one process: the "
            "per-topic locks and long-poll wake-ups live in it, so other workers would "
            "miss them. Set LOGQUEUE_WORKERS=1 or a postgresql+asyncpg:// "
            "LOGQUEUE_DATABASE_URL.",
            err=True,
        )
        raise typer.Exit(2)
    uvicorn.run(
        "app.main:app",
        host=host or settings.host,
        port=port if port is not None else settings.port,
        workers=processes,
        log_config=logging_config(settings.log_level),
        log_level=settings.log_level,
        access_log=settings.access_log,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
        limit_concurrency=settings.limit_concurrency,
        timeout_keep_alive=settings.timeout_keep_alive_s,
        http=HTTP_PROTOCOLS[settings.http_parser],
        h11_max_incomplete_event_size=settings.max_header_bytes,
    )


@cli.command()
def healthcheck(
    timeout: float = typer.Option(3.0, help="Seconds to wait for the answer."),
) -> None:
    """Exit 0 if the server on this host answers /status with success (the image's HEALTHCHECK).

    Python rather than curl: the slim image has no curl, and this reads the same settings.
    """
    settings = Settings()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if ":" in host:
        host = f"[{host}]"
    try:
        with urllib.request.urlopen(f"http://{host}:{settings.port}/status", timeout=timeout) as r:
            healthy = json.load(r).get("status") == "success"
    except (OSError, ValueError):
        healthy = False
    if not healthy:
        raise typer.Exit(1)


cli_client.register(cli)
cli.add_typer(cli_groups.groups, name="groups")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
