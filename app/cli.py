"""The ``logqueue`` command: ``serve`` runs the server; client commands use the SDK."""

import typer
import uvicorn

from app import cli_client
from app.settings import Settings

cli = typer.Typer(help="LogQueue: a durable HTTP log queue.", no_args_is_help=True)


@cli.callback()
def root() -> None:
    """LogQueue: a durable HTTP log queue."""


@cli.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address [LOGQUEUE_HOST]."),
    port: int | None = typer.Option(None, help="Port [LOGQUEUE_PORT]."),
    workers: int = typer.Option(1, min=1, help="uvicorn worker processes (PostgreSQL only)."),
) -> None:
    """Start the server with the LOGQUEUE_* settings."""
    settings = Settings()
    uvicorn.run(
        "app.main:app",
        host=host or settings.host,
        port=port if port is not None else settings.port,
        workers=workers,
        log_level="info",
    )


cli_client.register(cli)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
