"""The measurements, one function per group: HTTP ceiling, database ceiling, real server."""

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import client, db_ceiling, e2e, server
from bench.e2e import E2EResult
from bench.profile import py_spy
from bench.server import Database, Server
from bench.wrk import WrkResult, run_wrk


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


@dataclass(frozen=True)
class HttpCeiling:
    produce: WrkResult
    consume: WrkResult


@dataclass(frozen=True)
class DbCeiling:
    single_rows_per_second: float
    batch_rows_per_second: float


@dataclass
class ServerFigures:
    """What the real server did; ``missing`` says why a figure is absent."""

    produce: WrkResult
    consume: WrkResult
    missing: dict[str, str] = field(default_factory=dict)
    produce_batch: WrkResult | None = None
    consume_batch: WrkResult | None = None
    rss_before: int | None = None
    rss_after: int | None = None
    e2e: E2EResult | None = None


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def http_ceiling(plan: Plan, logs: Path) -> HttpCeiling:
    with server.serve("bench.ceiling_app:app", logs / "ceiling.log") as ceiling:
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
    with server.serve("app.main:app", logs / "server.log", **env) as real:
        supports = client.features(real.url)
        figures = _singles(plan, real)
        if reason := supports.missing("batch_produce"):
            figures.missing.update(produce_batch=reason, rss=reason)
        else:
            _batch_produce_and_rss(plan, real, figures)
        if reason := supports.missing("batch_consume"):
            figures.missing["consume_batch"] = reason
        else:
            topic = "bench-single" if figures.rss_after is None else "bench-rss"
            log(f"batch consume, max_messages={plan.batch}, {plan.batch_clients} consumers")
            consumers = client.register_consumers(real.url, topic, plan.batch_clients)
            with _profiled(plan, real, "batch-consume"):
                figures.consume_batch = _consume(
                    real, plan, topic, consumers, max_messages=plan.batch
                )
        if reason := supports.missing("batch_consume", "long_poll"):
            figures.missing["e2e"] = reason
        else:
            figures.e2e = _end_to_end(plan, real)
    return figures


def _singles(plan: Plan, real: Server) -> ServerFigures:
    log(f"single produce, {plan.clients} clients")
    producer = client.register_producer(real.url, "bench-single")
    with _profiled(plan, real, "single-produce"):
        produce = _produce(real, plan, "bench-single", producer, batch=0)
    log(f"single consume, {plan.clients} consumers (topic holds {produce.requests:,})")
    consumers = client.register_consumers(real.url, "bench-single", plan.clients)
    with _profiled(plan, real, "single-consume"):
        consume = _consume(real, plan, "bench-single", consumers, max_messages=0)
    return ServerFigures(produce, consume)


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
