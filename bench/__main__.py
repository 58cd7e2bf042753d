"""``python -m bench``: measure LogQueue against ceilings measured in the same run.

Order of a run: set-up (wrk, PostgreSQL, a fresh schema), the HTTP ceiling (a bare
FastAPI app under the same uvicorn flags), the database ceiling (asyncpg, no HTTP), then
the real server's figures, and one table of all of them.
"""

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bench import client, db_ceiling, e2e, server
from bench.e2e import E2EResult
from bench.report import (
    Baseline,
    Row,
    Target,
    at_least,
    at_most,
    below,
    markdown_table,
    ratio_at_least,
    text_table,
)
from bench.wrk import WrkResult, ensure_wrk, run_wrk

MB = 1024 * 1024


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
    """What the real server did; ``missing`` explains each figure it could not give."""

    produce: WrkResult
    consume: WrkResult
    missing: dict[str, str]
    produce_batch: WrkResult | None = None
    consume_batch: WrkResult | None = None
    rss_before: int | None = None
    rss_after: int | None = None
    e2e: E2EResult | None = None


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    options = _parse(argv)
    plan = Plan(seconds=options.duration)
    if options.quick:
        plan = replace(plan, seconds=min(plan.seconds, 2.0), rss_messages=50_000)
    database = server.Database(options.database)
    log(f"wrk at {ensure_wrk()}; PostgreSQL database {database.name} via scripts/dev-postgres.sh")
    server.ensure_postgres(database)
    with tempfile.TemporaryDirectory(prefix="logqueue-bench-") as tmp:
        logs = Path(tmp)
        http = measure_http_ceiling(plan, logs)
        db = measure_db_ceiling(plan, database)
        figures = measure_server(plan, database, logs)
    rows = build_rows(plan, http, db, figures)
    print(text_table(rows))
    if options.markdown:
        options.markdown.write_text(markdown_table(rows) + "\n")
        log(f"markdown table written to {options.markdown}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (2 s phases)")
    parser.add_argument("--markdown", type=Path, help="also write the table here as Markdown")
    parser.add_argument(
        "--database",
        default="logqueue_bench",
        help="PostgreSQL database to use; everything in it is dropped (default: %(default)s)",
    )
    return parser.parse_args(argv)


def measure_http_ceiling(plan: Plan, logs: Path) -> HttpCeiling:
    with server.serve("bench.ceiling_app:app", logs / "ceiling.log") as ceiling:
        log("HTTP ceiling: POST /producer/produce")
        produce = _produce(ceiling.url, plan, "bench", 1, batch=0)
        log("HTTP ceiling: GET /consumer/consume")
        consume = _consume(ceiling.url, plan, "bench", [1] * plan.clients, max_messages=0)
    return HttpCeiling(produce, consume)


def measure_db_ceiling(plan: Plan, database: server.Database) -> DbCeiling:
    log(f"database ceiling: single-row INSERTs at {plan.clients} concurrency")
    single = asyncio.run(
        db_ceiling.single_row_inserts(
            database.dsn, concurrency=plan.clients, seconds=plan.seconds, size=plan.message_bytes
        )
    )
    log(f"database ceiling: {plan.batch}-row INSERTs at {plan.batch_clients} concurrency")
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


def measure_server(plan: Plan, database: server.Database, logs: Path) -> ServerFigures:
    asyncio.run(server.reset_schema(database))
    env = {"LOGQUEUE_DATABASE_URL": database.url}
    with server.serve("app.main:app", logs / "server.log", **env) as real:
        supports = client.features(real.url)
        url = real.url

        log(f"single produce, {plan.clients} clients")
        producer = client.register_producer(url, "bench-single")
        produce = _produce(url, plan, "bench-single", producer, batch=0)
        log(f"single consume, {plan.clients} consumers (topic holds {produce.requests:,})")
        consumers = client.register_consumers(url, "bench-single", plan.clients)
        consume = _consume(url, plan, "bench-single", consumers, max_messages=0)
        figures = ServerFigures(produce, consume, missing={})

        if reason := supports.missing(batch_produce=True):
            figures.missing.update(produce_batch=reason, rss=reason)
        else:
            log(f"batch produce, {plan.batch} messages a request, {plan.batch_clients} clients")
            producer = client.register_producer(url, "bench-batch")
            figures.produce_batch = _produce(url, plan, "bench-batch", producer, batch=plan.batch)
            log(f"server RSS around producing {plan.rss_messages:,} messages")
            producer = client.register_producer(url, "bench-rss")
            figures.rss_before = real.rss_bytes()
            client.fill(
                url,
                "bench-rss",
                producer,
                total=plan.rss_messages,
                batch=plan.batch,
                size=plan.message_bytes,
            )
            figures.rss_after = real.rss_bytes()

        if reason := supports.missing(batch_consume=True):
            figures.missing["consume_batch"] = reason
        else:
            topic = "bench-single" if figures.rss_after is None else "bench-rss"
            log(f"batch consume, max_messages={plan.batch}, {plan.batch_clients} consumers")
            consumers = client.register_consumers(url, topic, plan.batch_clients)
            figures.consume_batch = _consume(url, plan, topic, consumers, max_messages=plan.batch)

        if reason := supports.missing(batch_consume=True, long_poll=True):
            figures.missing["e2e"] = reason
        else:
            log(f"end-to-end latency at {plan.e2e_rate:,.0f} msgs/s to a long-polling consumer")
            producer = client.register_producer(url, "bench-e2e")
            [consumer] = client.register_consumers(url, "bench-e2e", 1)
            figures.e2e = e2e.measure(
                url, "bench-e2e", producer, consumer, rate=plan.e2e_rate, seconds=plan.seconds
            )
    return figures


def _produce(url: str, plan: Plan, topic: str, producer: int, *, batch: int) -> WrkResult:
    """``batch`` 0 sends single messages from ``clients`` connections, else batches."""
    connections = plan.batch_clients if batch else plan.clients
    return run_wrk(
        "produce",
        url + "/producer/produce",
        connections=connections,
        threads=min(2, connections),
        seconds=plan.seconds,
        args=[topic, str(producer), str(plan.message_bytes), str(batch)],
    )


def _consume(
    url: str, plan: Plan, topic: str, consumers: list[int], *, max_messages: int
) -> WrkResult:
    """One wrk thread per consumer, each with one connection: a consumer never races itself."""
    return run_wrk(
        "consume",
        url + "/consumer/consume",
        connections=len(consumers),
        threads=len(consumers),
        seconds=plan.seconds,
        args=[topic, str(max_messages), *map(str, consumers)],
    )


def build_rows(plan: Plan, http: HttpCeiling, db: DbCeiling, figures: ServerFigures) -> list[Row]:
    n = plan.clients
    post = Baseline("HTTP ceiling POST", http.produce.requests_per_second, "req/s")
    get = Baseline("HTTP ceiling GET", http.consume.requests_per_second, "req/s")
    db_batch = Baseline(f"DB {plan.batch:,}-row INSERTs", db.batch_rows_per_second, "rows/s")
    rows = [
        Row(f"HTTP ceiling POST produce, {n} clients", post.value, "req/s"),
        Row(f"HTTP ceiling GET consume, {n} clients", get.value, "req/s"),
        Row(f"DB single-row INSERT txns, {n} conns", db.single_rows_per_second, "rows/s"),
        Row(f"DB {plan.batch:,}-row INSERTs, {plan.batch_clients} conns", db_batch.value, "rows/s"),
        *_latency_rows(f"single produce, {n} clients", figures.produce, http.produce, post),
        *_latency_rows(f"single consume, {n} consumers", figures.consume, http.consume, get),
    ]
    rows.append(
        _rate_row(
            f"batch produce {plan.batch:,} x {plan.message_bytes} B, {plan.batch_clients} clients",
            figures.produce_batch,
            figures.missing.get("produce_batch"),
            messages_per_request=plan.batch,
            baseline=db_batch,
            target=at_least(250_000, "msgs/s"),
        )
    )
    rows.append(
        _rate_row(
            f"batch consume max_messages={plan.batch}, {plan.batch_clients} consumers",
            figures.consume_batch,
            figures.missing.get("consume_batch"),
            messages_per_request=0,
            baseline=None,
            target=at_least(300_000, "msgs/s"),
        )
    )
    rows += _e2e_rows(plan, figures)
    rows.append(_rss_row(plan, figures))
    return rows


def _latency_rows(name: str, result: WrkResult, ceiling: WrkResult, base: Baseline) -> list[Row]:
    """Rate against the ceiling's rate (target 0.8 x), latencies against the ceiling's."""
    rate = _messages(result, 1) / result.seconds
    target = ratio_at_least(0.8, "HTTP ceiling")
    return [
        Row(f"{name}: msgs/s", rate, "msgs/s", base, target, note=_trouble(result)),
        Row(f"{name}: p50", result.p50_ms, "ms", replace(base, value=ceiling.p50_ms, unit="ms")),
        Row(f"{name}: p99", result.p99_ms, "ms", replace(base, value=ceiling.p99_ms, unit="ms")),
    ]


def _rate_row(
    name: str,
    result: WrkResult | None,
    missing: str | None,
    *,
    messages_per_request: int,
    baseline: Baseline | None,
    target: Target,
) -> Row:
    if result is None:
        return Row(name, None, "msgs/s", baseline, target, note=missing or "n/a")
    rate = _messages(result, messages_per_request) / result.seconds
    return Row(name, rate, "msgs/s", baseline, target, note=_trouble(result))


def _messages(result: WrkResult, per_request: int) -> int:
    """Produces count requests times batch size; consumes count what the bodies held."""
    if result.messages:
        return result.messages
    return (result.requests - result.bad_status) * per_request


def _trouble(result: WrkResult) -> str:
    problems = []
    if result.errors:
        problems.append(f"{result.errors} socket errors")
    if result.bad_status:
        problems.append(f"{result.bad_status} non-2xx")
    if result.empties:
        problems.append(f"{result.empties} empty answers")
    return ", ".join(problems)


def _e2e_rows(plan: Plan, figures: ServerFigures) -> list[Row]:
    name = f"end-to-end latency at {plan.e2e_rate:,.0f} msgs/s, long poll"
    result = figures.e2e
    if result is None:
        reason = figures.missing.get("e2e", "n/a")
        return [
            Row(f"{name}: p50", None, "ms", target=at_most(5, "ms"), note=reason),
            Row(f"{name}: p99", None, "ms", target=at_most(50, "ms"), note=reason),
        ]
    problems = []
    if result.send_rate < 0.95 * plan.e2e_rate:
        problems.append(f"sent only {result.send_rate:,.0f} msgs/s")
    if result.received != result.sent:
        problems.append(f"{result.received:,}/{result.sent:,} received")
    note = ", ".join(problems)
    return [
        Row(f"{name}: p50", result.p50_ms, "ms", target=at_most(5, "ms"), note=note),
        Row(f"{name}: p99", result.p99_ms, "ms", target=at_most(50, "ms"), note=note),
    ]


def _rss_row(plan: Plan, figures: ServerFigures) -> Row:
    name = f"server RSS growth over {plan.rss_messages:,} messages"
    if figures.rss_before is None or figures.rss_after is None:
        return Row(name, None, "MB", target=below(50, "MB"), note=figures.missing.get("rss", ""))
    note = f"{figures.rss_before / MB:.0f} -> {figures.rss_after / MB:.0f} MB"
    growth = (figures.rss_after - figures.rss_before) / MB
    return Row(name, growth, "MB", target=below(50, "MB"), note=note)


if __name__ == "__main__":
    main()
