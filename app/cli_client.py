"""Client commands of ``logqueue``: talk to a running broker through the synchronous SDK."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from logqueue_sdk import (
    DEFAULT_BROKER,
    Client,
    Consumer,
    GroupConsumer,
    LogQueueError,
    Producer,
    StreamStart,
)

BATCH = 500
READ_SIZE = 1 << 16
INTERRUPTED = 130

Broker = Annotated[
    str,
    typer.Option("--broker", envvar="LOGQUEUE_BROKER", help="Broker URL; 'host:port' works too."),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="LOGQUEUE_API_KEY",
        show_default=False,
        help="Key for a broker with access control on (prefer the variable: the process "
        "list shows arguments).",
    ),
]
topics = typer.Typer(help="List or create topics.", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    """Attach the client commands to the ``logqueue`` command."""
    cli.add_typer(topics, name="topics")
    for command in (produce, consume, size, tail):
        cli.command()(command)


@contextmanager
def _reported() -> Iterator[None]:
    """SDK errors become one line on stderr and exit status 1, not a traceback."""
    try:
        yield
    except LogQueueError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


@topics.command("list")
def list_topics(broker: Broker = DEFAULT_BROKER, api_key: ApiKey = None) -> None:
    """Print every topic, oldest first."""
    with _reported(), Client(broker, api_key=api_key) as client:
        for name in client.list_topics():
            typer.echo(name)


@topics.command("create")
def create_topic(
    name: str,
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Succeed if the topic already exists.")
    ] = False,
    broker: Broker = DEFAULT_BROKER,
    api_key: ApiKey = None,
) -> None:
    """Create the topic NAME."""
    with _reported(), Client(broker, api_key=api_key) as client:
        created = client.create_topic(name, exist_ok=exist_ok)
    typer.echo(f"Topic '{name}' {'created' if created else 'already exists'}")


def produce(
    topic: str,
    message: Annotated[
        str, typer.Argument(help="The message; '-' (the default) sends each line of stdin.")
    ] = "-",
    broker: Broker = DEFAULT_BROKER,
    api_key: ApiKey = None,
) -> None:
    """Send MESSAGE to TOPIC, or every non-empty line of stdin, in order."""
    batches = _line_batches(sys.stdin.fileno()) if message == "-" else iter([[message]])
    sent = 0
    with _reported(), Producer(broker, [topic], api_key=api_key) as producer:
        for batch in batches:
            if not producer.send_batch(topic, batch):
                typer.echo(f"error: broker unreachable; {sent} message(s) sent", err=True)
                raise typer.Exit(1)
            sent += len(batch)
    typer.echo(f"Sent {sent} message(s) to '{topic}'", err=True)


def consume(
    topic: str,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep waiting for new messages until Ctrl-C.")
    ] = False,
    consumer_id: Annotated[
        int | None,
        typer.Option(help="Resume as this consumer; by default a new one reads from the start."),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(help="Read as a member of this consumer group, acking what is printed."),
    ] = None,
    broker: Broker = DEFAULT_BROKER,
    api_key: ApiKey = None,
) -> None:
    """Print TOPIC's messages one per line; a new consumer's id goes to stderr."""
    if group is not None:
        _consume_group(topic, group, follow, broker, api_key)
        return
    resume = {topic: consumer_id} if consumer_id is not None else None
    with _reported(), Consumer(broker, [topic], api_key=api_key, consumer_ids=resume) as consumer:
        if consumer_id is None:
            typer.echo(f"consumer id: {consumer.topic_id_map[topic]}", err=True)
        messages = consumer.get_next() if follow else iter(lambda: consumer.dequeue(topic), None)
        try:
            for received in messages:
                typer.echo(received.body)
        except KeyboardInterrupt:
            raise typer.Exit(INTERRUPTED) from None


def _consume_group(topic: str, group: str, follow: bool, broker: str, api_key: str | None) -> None:
    """Print the group's messages one per line, acking each lease once it is printed;
    without ``follow``, stop when nothing is left to deliver."""
    wait = 5.0 if follow else 0.0
    with _reported(), GroupConsumer(broker, topic, group, api_key=api_key, wait=wait) as consumer:
        try:
            while True:
                lease = consumer.fetch()
                if lease is None:
                    if follow:
                        continue
                    return
                for message in lease.messages:
                    typer.echo(message.body)
                lease.ack()
        except KeyboardInterrupt:
            raise typer.Exit(INTERRUPTED) from None


def size(
    topic: str,
    consumer_id: Annotated[int, typer.Option(help="The consumer to ask about.")],
    broker: Broker = DEFAULT_BROKER,
    api_key: ApiKey = None,
) -> None:
    """Print how many messages of TOPIC the consumer has not read yet."""
    with (
        _reported(),
        Consumer(broker, api_key=api_key, consumer_ids={topic: consumer_id}) as consumer,
    ):
        typer.echo(consumer.size(topic))


def tail(
    topic: str,
    start: Annotated[
        str,
        typer.Option(
            "--from", help="'latest' (new messages only), 'earliest' or an offset to start at."
        ),
    ] = "latest",
    broker: Broker = DEFAULT_BROKER,
    api_key: ApiKey = None,
) -> None:
    """Print TOPIC's messages as they are produced, until Ctrl-C; moves no consumer."""
    where = _stream_start(start)
    with _reported(), Client(broker, api_key=api_key) as client:
        try:
            for received in client.stream(topic, start=where):
                typer.echo(received.body)
        except KeyboardInterrupt:
            raise typer.Exit(INTERRUPTED) from None


def _line_batches(fd: int) -> Iterator[list[bytes]]:
    """Non-empty lines of the input, batched by what each read returned: big batches while
    input streams in, each line at once when it trickles (``tail -f app.log | logqueue ...``)."""
    pending = b""
    while chunk := os.read(fd, READ_SIZE):
        *lines, pending = (pending + chunk).split(b"\n")
        kept = [text for line in lines if (text := line.rstrip(b"\r"))]
        for start in range(0, len(kept), BATCH):
            yield kept[start : start + BATCH]
    if last := pending.rstrip(b"\r"):
        yield [last]


def _stream_start(start: str) -> StreamStart:
    """``--from`` as the SDK takes it; anything else is a usage error (exit 2)."""
    if start.isdigit():
        return int(start)
    if start == "earliest":
        return "earliest"
    if start == "latest":
        return "latest"
    typer.echo("error: --from takes 'earliest', 'latest' or an offset", err=True)
    raise typer.Exit(2)
