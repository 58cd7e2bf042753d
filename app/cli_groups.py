"""``logqueue groups ...`` and ``logqueue consume --group``: consumer groups from the shell."""

from datetime import datetime
from typing import Annotated

import typer

from app.cli_client import ApiKey, Broker, _reported
from logqueue_sdk import DEFAULT_BROKER, Client, GroupConsumer, GroupInfo, StartAt

groups = typer.Typer(
    help="List, create, show, seek or delete consumer groups.", no_args_is_help=True
)

START_HELP = "'earliest', 'latest', an offset, or an RFC 3339 time."


def parse_start(value: str) -> StartAt:
    if value in ("earliest", "latest"):
        return value  # type: ignore[return-value]
    if value.isdecimal():
        return int(value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not {START_HELP}") from None


def _show(info: GroupInfo) -> None:
    typer.echo(
        f"{info.group}: lag={info.lag} pending={info.pending} acked={info.acked} "
        f"redelivered={info.redelivered} dead_lettered={info.dead_lettered} "
        f"skipped={info.skipped} next_offset={info.next_offset} ack_wait={info.ack_wait}s "
        f"max_deliver={info.max_deliver} dead_letter_topic={info.dead_letter_topic or '-'}"
    )


@groups.command("list")
def list_groups(topic: str, broker: Broker = DEFAULT_BROKER, api_key: ApiKey = None) -> None:
    """Print TOPIC's groups, one line each with their counts."""
    with _reported(), Client(broker, api_key=api_key) as client:
        for info in client.list_groups(topic):
            _show(info)


@groups.command("create")
def create_group(
    topic: str,
    group: str,
    start: Annotated[str, typer.Option(help=f"Where a new group begins: {START_HELP}")] = (
        "earliest"
    ),
    ack_wait: Annotated[
        float | None, typer.Option(help="Seconds a lease lasts unless extended.")
    ] = None,
    max_deliver: Annotated[
        int | None, typer.Option(help="Deliveries without an ack before a message is dead.")
    ] = None,
    dead_letter_topic: Annotated[
        str | None, typer.Option(help="Topic that receives dead messages' envelopes.")
    ] = None,
    broker: Broker = DEFAULT_BROKER,
    api_key: ApiKey = None,
) -> None:
    """Create GROUP on TOPIC, or update the settings given."""
    with _reported(), GroupConsumer(broker, topic, group, api_key=api_key) as consumer:
        _show(
            consumer.create(
                start=parse_start(start),
                ack_wait=ack_wait,
                max_deliver=max_deliver,
                dead_letter_topic=dead_letter_topic,
            )
        )


@groups.command("show")
def show_group(
    topic: str, group: str, broker: Broker = DEFAULT_BROKER, api_key: ApiKey = None
) -> None:
    """Print GROUP's settings and counts."""
    with _reported(), GroupConsumer(broker, topic, group, api_key=api_key) as consumer:
        _show(consumer.details())


@groups.command("seek")
def seek_group(
    topic: str,
    group: str,
    start: Annotated[str, typer.Argument(help=START_HELP)],
    broker: Broker = DEFAULT_BROKER,
    api_key: ApiKey = None,
) -> None:
    """Move GROUP to START: before it counts as finished, from it on is delivered again."""
    with _reported(), GroupConsumer(broker, topic, group, api_key=api_key) as consumer:
        _show(consumer.seek(parse_start(start)))


@groups.command("delete")
def delete_group(
    topic: str, group: str, broker: Broker = DEFAULT_BROKER, api_key: ApiKey = None
) -> None:
    """Delete GROUP and its leases."""
    with _reported(), GroupConsumer(broker, topic, group, api_key=api_key) as consumer:
        consumer.delete()
    typer.echo(f"Group '{group}' deleted")
