"""The measurements, one function per group: HTTP ceiling, database ceiling, real server
(with the SDK loads users run), the same with more workers, and the anchors."""

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import client, db_ceiling, e2e, groups, server, users
from bench.anchors import jetstream, redis_streams
from bench.anchors.daemon import Missing
from bench.anchors.figure import AnchorFigure
from bench.e2e import E2EResult
from bench.measure import Run, measured
from bench.profile import py_spy
from bench.server import Database, Server
from bench.wrk import WrkResult, run_wrk

GROUP_SECONDS = 4.0


@dataclass(frozen=True)
class Plan:
    """How much load each phase applies; ``--quick`` shrinks the lengths, not the shapes."""

    seconds: float = 10.0
    clients: int = 64
    batch_clients: int = 4
    batch: int = 1000
    message_bytes: int = 100
    rss_messages: int = 1_000_000
    e2e_rate: float = 1000.0
    profile_dir: Path | None = None
    sdk_threads: int = 8
    sdk_tasks: int = 64
    sdk_messages: int = 100_000
    """``produce()`` + ``flush()``, the consumer's drain and the anchors' fixed-count loads."""
    workers: int = 2
    """The second run of the HTTP rows: server and ceiling both with this many workers."""


@dataclass(frozen=True)
class HttpCeiling:
    produce: WrkResult
    consume: WrkResult


@dataclass(frozen=True)
class DbCeiling:
    single_rows_per_second: float
    batch_rows_per_second: float


@dataclass
class UserFigures:
    """The SDK loads (``bench/users.py``) and the bare httpx loop set against them."""

    bare_loop: Run
    send_loop: Run
    send_threads: Run
    async_sends: Run
    send_batch: Run
    drain: Run
    produce_flush: Run


@dataclass
class ServerFigures:
    """What the real server did; the optional figures are filled in as they are measured."""

    produce: WrkResult
    consume: WrkResult
    produce_batch: WrkResult | None = None
    consume_batch: WrkResult | None = None
    rss_before: int | None = None
    rss_after: int | None = None
    e2e: E2EResult | None = None
    users: UserFigures | None = None
    group_members: WrkResult | None = None
    """wrk members, like with like beside batch consume's wrk consumers."""
    group_sdk_members: Run | None = None
    """The same job done by SDK ``GroupConsumer`` processes, as users run it."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def http_ceiling(plan: Plan, logs: Path, *, workers: int = 1) -> HttpCeiling:
    log_path = logs / f"ceiling-{workers}.log"
    with server.serve("bench.ceiling_app:app", log_path, workers=workers) as ceiling:
        log("HTTP ceiling: POST /producer/produce")
        produce = _produce(ceiling, plan, "bench", 1, batch=0)
        log("HTTP ceiling: GET /consumer/consume")
        consume = _consume(ceiling, plan, "bench", [1] * plan.clients, max_messages=0)
    return HttpCeiling(produce, consume)


def database_ceiling(plan: Plan, database: Database) -> DbCeiling:
    log(f"database ceiling: single-row INSERTs at {plan.clients} concurrency")
    single = asyncio.run(
        db_ceiling.single_row_inserts(
            database.dsn, concurrency=plan.clients, seconds=plan.seconds, size=plan.message_bytes
        )
    )
    log(f"database ceiling: {plan.batch:,}-row INSERTs at {plan.batch_clients} concurrency")
    batch = asyncio.run(
        db_ceiling.batch_inserts(
            database.dsn,
            concurrency=plan.batch_clients,
            seconds=plan.seconds,
            size=plan.message_bytes,
            batch=plan.batch,
        )
    )
    return DbCeiling(single, batch)


def real_server(plan: Plan, database: Database, logs: Path) -> ServerFigures:
    """Every server figure on one server process, over a schema it migrated itself."""
    asyncio.run(server.reset_schema(database))
    env = {"LOGQUEUE_DATABASE_URL": database.url}
    with server.serve("app.main:app", logs / "server.log", env=env) as real:
        figures = _singles(plan, real)
        _batch_produce_and_rss(plan, real, figures)
        log(f"batch consume, max_messages={plan.batch}, {plan.batch_clients} consumers")
        consumers = client.register_consumers(real.url, "bench-rss", plan.batch_clients)
        with _profiled(plan, real, "batch-consume"):
            figures.consume_batch = _consume(
                real, plan, "bench-rss", consumers, max_messages=plan.batch
            )
        with _profiled(plan, real, "group-members"):
            figures.group_members = _group_wrk(plan, real, "bench-rss")
        figures.group_sdk_members = _group_members(plan, real, "bench-rss")
        figures.e2e = _end_to_end(plan, real)
        figures.users = _users(plan, real)
    return figures


def _group_wrk(plan: Plan, real: Server, topic: str) -> WrkResult:
    """Consumer groups beside batch consume, loaded the same way: one wrk thread and
    connection per member, each fetching ``plan.batch``-message leases of one new group and
    acking them. At most ``GROUP_SECONDS``, so that the topic's 1,000,000 messages, which
    the members share, last up to 250,000 msgs/s."""
    log(f"group: {plan.batch_clients} wrk members, {plan.batch:,}-message leases, acking")
    group = "bench-group-wrk"
    client.create_group(real.url, topic, group)
    return run_wrk(
        "group",
        real,
        "/",
        connections=plan.batch_clients,
        threads=plan.batch_clients,
        seconds=min(plan.seconds, GROUP_SECONDS),
        args=[topic, group, str(plan.batch)],
    )


def _group_members(plan: Plan, real: Server, topic: str) -> Run:
    """The group load through the SDK: as many member processes as batch consumers, each
    fetching ``plan.batch``-message leases from the same topic and acking them."""
    log(f"group: {plan.batch_clients} SDK members fetching {plan.batch:,}-message leases")
    return groups.members_drain(
        real.url,
        topic,
        real.cpu_seconds,
        members=plan.batch_clients,
        batch=plan.batch,
        seconds=plan.seconds,
    )


def more_workers(plan: Plan, database: Database, logs: Path) -> ServerFigures:
    """The wrk figures again with ``plan.workers`` server processes, on the schema and the
    1,000,000-message topic that ``real_server`` left behind."""
    env = {"LOGQUEUE_DATABASE_URL": database.url}
    log_path = logs / f"server-{plan.workers}.log"
    with server.serve("app.main:app", log_path, workers=plan.workers, env=env) as real:
        figures = _singles(plan, real, topic=f"bench-single-{plan.workers}")
        log(f"{plan.workers} workers: batch produce and batch consume")
        producer = client.register_producer(real.url, "bench-batch")
        figures.produce_batch = _produce(real, plan, "bench-batch", producer, batch=plan.batch)
        consumers = client.register_consumers(real.url, "bench-rss", plan.batch_clients)
        figures.consume_batch = _consume(
            real, plan, "bench-rss", consumers, max_messages=plan.batch
        )
    return figures


def anchors(plan: Plan, scratch: Path) -> list[AnchorFigure]:
    """NATS JetStream and Redis Streams, each on its own scratch store; a missing binary
    skips its anchor with a message."""
    figures: list[AnchorFigure] = []
    for module in (jetstream, redis_streams):
        log(f"anchor: {module.ANCHOR}")
        try:
            figures += module.measure(
                scratch,
                seconds=plan.seconds,
                count=plan.sdk_messages,
                batch=plan.batch,
                size=plan.message_bytes,
            )
        except Missing as exc:
            log(f"anchor {module.ANCHOR} skipped: {exc}")
            figures.append(AnchorFigure(module.ANCHOR, "", None, "", None, skipped=str(exc)))
    return figures


def _singles(plan: Plan, real: Server, topic: str = "bench-single") -> ServerFigures:
    log(f"single produce, {plan.clients} clients")
    producer = client.register_producer(real.url, topic)
    with _profiled(plan, real, "single-produce"):
        produce = _produce(real, plan, topic, producer, batch=0)
    log(f"single consume, {plan.clients} consumers (topic holds {produce.requests:,})")
    consumers = client.register_consumers(real.url, topic, plan.clients)
    with _profiled(plan, real, "single-consume"):
        consume = _consume(real, plan, topic, consumers, max_messages=0)
    return ServerFigures(produce, consume)


def _users(plan: Plan, real: Server) -> UserFigures:
    """The SDK as users run it, each load on its own topic, one after another."""
    url, seconds, size = real.url, plan.seconds, plan.message_bytes

    def run(what: str, load: Callable[[], int]) -> Run:
        log(f"users: {what}")
        return measured(real.cpu_seconds, load)

    figures = UserFigures(
        bare_loop=run(
            "bare httpx loop",
            lambda: users.bare_httpx_loop(url, "u-bare", seconds=seconds, size=size),
        ),
        send_loop=run(
            "SDK send() loop, one thread",
            lambda: users.send_loops(url, "u-send", threads=1, seconds=seconds, size=size),
        ),
        send_threads=run(
            f"SDK send() loops, {plan.sdk_threads} threads",
            lambda: users.send_loops(
                url, "u-threads", threads=plan.sdk_threads, seconds=seconds, size=size
            ),
        ),
        async_sends=run(
            f"async SDK, {plan.sdk_tasks} concurrent send()s",
            lambda: users.concurrent_async_sends(
                url, "u-async", tasks=plan.sdk_tasks, seconds=seconds, size=size
            ),
        ),
        send_batch=run(
            f"SDK send_batch() of {plan.batch:,}",
            lambda: users.send_batches(
                url, "u-batch", batch=plan.batch, seconds=seconds, size=size
            ),
        ),
        drain=_drain(plan, real, run),
        produce_flush=run(
            f"SDK produce() + flush() of {plan.sdk_messages:,}",
            lambda: users.produce_and_flush(url, "u-pipeline", count=plan.sdk_messages, size=size),
        ),
    )
    return figures


def _drain(plan: Plan, real: Server, run: Callable[[str, Callable[[], int]], Run]) -> Run:
    """``get_next()`` over a topic filled beforehand (untimed) with ``plan.sdk_messages``."""
    producer = client.register_producer(real.url, "u-drain")
    client.fill(
        real.url,
        "u-drain",
        producer,
        total=plan.sdk_messages,
        batch=plan.batch,
        size=plan.message_bytes,
    )
    return run(
        f"SDK Consumer.get_next() draining {plan.sdk_messages:,}",
        lambda: users.drain(real.url, "u-drain", count=plan.sdk_messages),
    )


def _batch_produce_and_rss(plan: Plan, real: Server, figures: ServerFigures) -> None:
    log(f"batch produce, {plan.batch} messages a request, {plan.batch_clients} clients")
    producer = client.register_producer(real.url, "bench-batch")
    with _profiled(plan, real, "batch-produce"):
        figures.produce_batch = _produce(real, plan, "bench-batch", producer, batch=plan.batch)
    log(f"server RSS around producing {plan.rss_messages:,} messages")
    producer = client.register_producer(real.url, "bench-rss")
    figures.rss_before = real.rss_bytes()
    client.fill(
        real.url,
        "bench-rss",
        producer,
        total=plan.rss_messages,
        batch=plan.batch,
        size=plan.message_bytes,
    )
    figures.rss_after = real.rss_bytes()


def _end_to_end(plan: Plan, real: Server) -> E2EResult:
    log(f"end-to-end latency at {plan.e2e_rate:,.0f} msgs/s to a long-polling consumer")
    producer = client.register_producer(real.url, "bench-e2e")
    [consumer] = client.register_consumers(real.url, "bench-e2e", 1)
    return e2e.measure(
        real.url, "bench-e2e", producer, consumer, rate=plan.e2e_rate, seconds=plan.seconds
    )


def _produce(target: Server, plan: Plan, topic: str, producer: int, *, batch: int) -> WrkResult:
    """``batch`` 0 sends single messages from ``clients`` connections, else batches."""
    connections = plan.batch_clients if batch else plan.clients
    return run_wrk(
        "produce",
        target,
        "/producer/produce",
        connections=connections,
        threads=min(2, connections),
        seconds=plan.seconds,
        args=[topic, str(producer), str(plan.message_bytes), str(batch)],
    )


def _consume(
    target: Server, plan: Plan, topic: str, consumers: list[int], *, max_messages: int
) -> WrkResult:
    """One wrk thread per consumer, each with one connection: a consumer never races itself."""
    return run_wrk(
        "consume",
        target,
        "/consumer/consume",
        connections=len(consumers),
        threads=len(consumers),
        seconds=plan.seconds,
        args=[topic, str(max_messages), *map(str, consumers)],
    )


@contextmanager
def _profiled(plan: Plan, target: Server, phase: str) -> Iterator[None]:
    if plan.profile_dir is None:
        yield
        return
    out = plan.profile_dir / f"{phase}.svg"
    with py_spy(target.pid, out, seconds=plan.seconds):
        yield
    log(f"profile of {phase} written to {out}")
