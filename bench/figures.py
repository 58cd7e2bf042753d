"""Which rows the table has: each figure, the baseline it is set against, and its target.

The targets are issue 4's (single produce at least 0.8 x the HTTP ceiling, batch consume
300,000 msgs/s, end-to-end p50 5 ms and p99 50 ms, RSS growth under 50 MB over 1,000,000
messages) and issue 11's (the SDK against a bare httpx loop and against itself, server CPU
per message against the ceiling's, batch produce against the database ceiling, two workers
against one).
"""

from dataclasses import dataclass

from bench.anchors.figure import AnchorFigure, Counterpart
from bench.measure import Run
from bench.phases import DbCeiling, HttpCeiling, Plan, ServerFigures
from bench.report import (
    Baseline,
    Row,
    Target,
    at_least,
    at_most,
    below,
    both,
    ratio_at_least,
    ratio_at_most,
)
from bench.wrk import WrkResult

MB = 1024 * 1024


@dataclass(frozen=True)
class Results:
    """Everything one run measured."""

    plan: Plan
    http: HttpCeiling
    db: DbCeiling
    server: ServerFigures
    http_more: HttpCeiling | None = None
    """The HTTP ceiling with ``plan.workers`` workers (None when not run)."""
    server_more: ServerFigures | None = None
    anchors: tuple[AnchorFigure, ...] = ()


def build_rows(results: Results) -> list[Row]:
    return [
        *_ceiling_rows(results.plan, results.http, results.db),
        *_server_rows(results.plan, results.http, results.db, results.server),
        *_user_rows(results.plan, results.server),
        *_more_worker_rows(results),
        *_anchor_rows(results),
    ]


def _ceiling_rows(plan: Plan, http: HttpCeiling, db: DbCeiling) -> list[Row]:
    n, batch = plan.clients, plan.batch
    return [
        Row(f"HTTP ceiling: POST produce, {n} clients", http.produce.requests_per_second, "req/s"),
        Row(f"HTTP ceiling: GET consume, {n} clients", http.consume.requests_per_second, "req/s"),
        Row(f"DB ceiling: single-row INSERT txns, {n} conns", db.single_rows_per_second, "rows/s"),
        Row(
            f"DB ceiling: {batch:,}-row INSERTs, {plan.batch_clients} conns",
            db.batch_rows_per_second,
            "rows/s",
        ),
    ]


def _server_rows(plan: Plan, http: HttpCeiling, db: DbCeiling, figures: ServerFigures) -> list[Row]:
    n, batch = plan.clients, plan.batch
    post = _ceiling_baseline("HTTP ceiling POST", http.produce)
    get = _ceiling_baseline("HTTP ceiling GET", http.consume)
    return [
        *_single_rows(
            f"single produce, {n} clients",
            figures.produce,
            http.produce,
            post,
            ratio_at_least(0.8, "HTTP ceiling"),
            cpu_target=ratio_at_most(1.3, "ceiling's"),
        ),
        *_single_rows(
            f"single consume, {n} consumers",
            figures.consume,
            http.consume,
            get,
            ratio_at_least(0.8, "HTTP ceiling"),
            cpu_target=ratio_at_most(1.6, "ceiling's"),
        ),
        *_batch_rows(
            f"batch produce {batch:,} x {plan.message_bytes} B, {plan.batch_clients} clients",
            figures.produce_batch,
            per_request=batch,
            baseline=Baseline(f"DB {batch:,}-row INSERTs", db.batch_rows_per_second, "rows/s"),
            target=ratio_at_least(0.5, "DB ceiling"),
        ),
        *_batch_rows(
            f"batch consume max_messages={batch:,}, {plan.batch_clients} consumers",
            figures.consume_batch,
            per_request=0,
            baseline=None,
            target=at_least(300_000, "msgs/s"),
        ),
        *_run_rows(
            f"group: {plan.batch_clients} wrk members, {batch:,}-message leases, fetch + ack",
            _as_run(figures.group_members, 0),
            Reference.of_wrk("batch consume", figures.consume_batch, 0),
            ratio_at_least(0.7, "batch consume"),
            note="" if figures.group_members is None else _trouble(figures.group_members),
        ),
        *_e2e_rows(plan, figures),
        _rss_row(plan, figures),
    ]


def _ceiling_baseline(name: str, ceiling: WrkResult) -> Baseline:
    return Baseline(name, ceiling.requests_per_second, "req/s")


def _single_rows(
    name: str,
    result: WrkResult,
    ceiling: WrkResult,
    rate_baseline: Baseline,
    target: Target | None,
    *,
    cpu_target: Target | None,
    ceiling_name: str | None = None,
) -> list[Row]:
    """Rate against ``rate_baseline``; latencies and CPU per message against the same
    numbers of the ceiling (named ``ceiling_name``, else as the rate's baseline is)."""
    messages = _messages(result, 1)
    label = ceiling_name or rate_baseline.name
    cpu = Baseline(label, ceiling.cpu_per_message_us(ceiling.requests), "us")
    return [
        Row(
            f"{name}: msgs/s",
            messages / result.seconds,
            "msgs/s",
            rate_baseline,
            target,
            _trouble(result),
        ),
        Row(f"{name}: p50", result.p50_ms, "ms", Baseline(label, ceiling.p50_ms, "ms")),
        Row(f"{name}: p99", result.p99_ms, "ms", Baseline(label, ceiling.p99_ms, "ms")),
        Row(
            f"{name}: server CPU per msg",
            result.cpu_per_message_us(messages),
            "us",
            cpu,
            cpu_target,
        ),
    ]


def _batch_rows(
    name: str,
    result: WrkResult | None,
    *,
    per_request: int,
    baseline: Baseline | None,
    target: Target | None,
) -> list[Row]:
    if result is None:
        return [Row(name, None, "msgs/s", baseline, target, note="n/a")]
    messages = _messages(result, per_request)
    return [
        Row(name, messages / result.seconds, "msgs/s", baseline, target, note=_trouble(result)),
        Row(f"{name}: server CPU per msg", result.cpu_per_message_us(messages), "us"),
    ]


def _messages(result: WrkResult, per_request: int) -> int:
    """Produces count answered requests times batch size; consumes count what bodies held."""
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
    name = f"end-to-end at {plan.e2e_rate:,.0f} msgs/s, long poll"
    targets = {"p50": at_most(5, "ms"), "p99": at_most(50, "ms")}
    result = figures.e2e
    if result is None:
        return [Row(f"{name}: {p}", None, "ms", target=t, note="n/a") for p, t in targets.items()]
    problems = []
    if result.send_rate < 0.95 * plan.e2e_rate:
        problems.append(f"sent only {result.send_rate:,.0f} msgs/s")
    if result.received != result.sent:
        problems.append(f"{result.received:,}/{result.sent:,} received")
    note = ", ".join(problems)
    return [
        Row(f"{name}: p50", result.p50_ms, "ms", target=targets["p50"], note=note),
        Row(f"{name}: p99", result.p99_ms, "ms", target=targets["p99"], note=note),
    ]


def _rss_row(plan: Plan, figures: ServerFigures) -> Row:
    name = f"server RSS growth over {plan.rss_messages:,} messages"
    target = below(50, "MB")
    if figures.rss_before is None or figures.rss_after is None:
        return Row(name, None, "MB", target=target, note="n/a")
    note = f"{figures.rss_before / MB:.0f} -> {figures.rss_after / MB:.0f} MB"
    growth = (figures.rss_after - figures.rss_before) / MB
    return Row(name, growth, "MB", target=target, note=note)


@dataclass(frozen=True)
class Reference:
    """A same-run figure other rows are set against: its rate and its server CPU per message."""

    name: str
    per_second: float
    cpu_per_message_us: float

    @classmethod
    def of_run(cls, name: str, run: Run) -> "Reference":
        return cls(name, run.per_second, run.cpu_per_message_us)

    @classmethod
    def of_wrk(cls, name: str, result: WrkResult | None, per_request: int) -> "Reference | None":
        if result is None:
            return None
        messages = _messages(result, per_request)
        return cls(name, messages / result.seconds, result.cpu_per_message_us(messages))


def _user_rows(plan: Plan, figures: ServerFigures) -> list[Row]:
    """The SDK loads, each against the same run's figure it should be compared with."""
    found = figures.users
    if found is None:
        return [Row("SDK loads", None, "msgs/s", note="n/a")]
    bare = Reference.of_run("bare httpx loop", found.bare_loop)
    one = Reference.of_run("SDK send() loop", found.send_loop)
    send_batch = Reference.of_run(f"SDK send_batch({plan.batch:,})", found.send_batch)
    wrk_batch = Reference.of_wrk(
        f"wrk unsequenced {plan.batch:,}-batches", figures.produce_batch, plan.batch
    )
    wrk_consume = Reference.of_wrk(f"wrk max_messages={plan.batch:,}", figures.consume_batch, 0)
    return [
        *_run_rows("bare httpx loop, unsequenced single produces, one thread", found.bare_loop),
        *_run_rows(
            "SDK Producer.send() loop, one thread",
            found.send_loop,
            bare,
            ratio_at_least(0.8, "bare loop"),
        ),
        *_run_rows(
            f"SDK send() loops, {plan.sdk_threads} threads (a Producer each), one topic",
            found.send_threads,
            one,
            ratio_at_least(3, "one thread"),
        ),
        *_run_rows(
            f"async SDK, {plan.sdk_tasks} concurrent send()s on one AsyncProducer",
            found.async_sends,
            one,
        ),
        *_run_rows(
            f"SDK produce() + flush() of {plan.sdk_messages:,}, one thread",
            found.produce_flush,
            send_batch,
            both(ratio_at_least(0.6, "send_batch"), at_least(100_000, "msgs/s")),
        ),
        *_run_rows(f"SDK send_batch() of {plan.batch:,}, one thread", found.send_batch, wrk_batch),
        *_run_rows(
            f"SDK Consumer.get_next() draining {plan.sdk_messages:,}", found.drain, wrk_consume
        ),
        *_run_rows(
            f"SDK GroupConsumer, {plan.batch_clients} member processes, {plan.batch:,}-message"
            " leases, fetch + ack",
            figures.group_sdk_members,
            Reference.of_wrk("wrk members", figures.group_members, 0),
        ),
    ]


def _run_rows(
    name: str,
    run: Run | None,
    reference: Reference | None = None,
    target: Target | None = None,
    *,
    note: str = "",
) -> list[Row]:
    """Rate and server CPU per message, each against the reference's."""
    rate = cpu = None
    if reference is not None:
        rate = Baseline(reference.name, reference.per_second, "msgs/s")
        cpu = Baseline(reference.name, reference.cpu_per_message_us, "us")
    if run is None:
        return [Row(name, None, "msgs/s", rate, target, note="n/a")]
    return [
        Row(name, run.per_second, "msgs/s", rate, target, note=note),
        Row(f"{name}: server CPU per msg", run.cpu_per_message_us, "us", cpu),
    ]


def _more_worker_rows(results: Results) -> list[Row]:
    """The HTTP rows with ``plan.workers`` workers: rates against one worker's, latencies
    and CPU against the ceiling with as many workers."""
    plan, http, more, one = results.plan, results.http_more, results.server_more, results.server
    if http is None or more is None:
        return []
    n, batch, w = plan.clients, plan.batch, plan.workers
    return [
        Row(
            f"HTTP ceiling, {w} workers: POST produce, {n} clients",
            http.produce.requests_per_second,
            "req/s",
            _ceiling_baseline("1 worker", results.http.produce),
        ),
        Row(
            f"HTTP ceiling, {w} workers: GET consume, {n} clients",
            http.consume.requests_per_second,
            "req/s",
            _ceiling_baseline("1 worker", results.http.consume),
        ),
        *_single_rows(
            f"single produce, {w} workers, {n} clients",
            more.produce,
            http.produce,
            Baseline("1 worker", _messages(one.produce, 1) / one.produce.seconds, "msgs/s"),
            ratio_at_least(1.4, "1 worker"),
            cpu_target=None,
            ceiling_name=f"HTTP ceiling POST, {w} workers",
        ),
        *_single_rows(
            f"single consume, {w} workers, {n} consumers",
            more.consume,
            http.consume,
            Baseline("1 worker", _messages(one.consume, 1) / one.consume.seconds, "msgs/s"),
            None,
            cpu_target=None,
            ceiling_name=f"HTTP ceiling GET, {w} workers",
        ),
        *_run_rows(
            f"batch produce {batch:,} x {plan.message_bytes} B, {w} workers",
            _as_run(more.produce_batch, batch),
            Reference.of_wrk("1 worker", one.produce_batch, batch),
        ),
        *_run_rows(
            f"batch consume max_messages={batch:,}, {w} workers",
            _as_run(more.consume_batch, 0),
            Reference.of_wrk("1 worker", one.consume_batch, 0),
        ),
    ]


def _as_run(result: WrkResult | None, per_request: int) -> Run | None:
    if result is None:
        return None
    return Run(_messages(result, per_request), result.seconds, result.server_cpu_seconds)


def _anchor_rows(results: Results) -> list[Row]:
    """Each anchor load beside the LogQueue SDK load that does the same job, with its
    durability and its server's CPU per message in the note."""
    users = results.server.users
    sdk: dict[Counterpart, Run | None] = {}
    if users is not None:
        sdk = {
            "send_loop": users.send_loop,
            "produce_flush": users.produce_flush,
            "send_batch": users.send_batch,
            "drain": users.drain,
        }
    rows = []
    for figure in results.anchors:
        if figure.run is None:
            rows.append(Row(figure.anchor, None, "msgs/s", note=f"skipped: {figure.skipped}"))
            continue
        rate = None
        if figure.counterpart is not None and (same_job := sdk.get(figure.counterpart)):
            label = f"LogQueue {COUNTERPARTS[figure.counterpart]}"
            rate = Baseline(label, same_job.per_second, "msgs/s")
        note = f"{figure.durability}; server CPU {figure.run.cpu_per_message_us:,.0f} us/msg"
        name = f"{figure.anchor}: {figure.load}"
        rows.append(Row(name, figure.run.per_second, "msgs/s", rate, note=note))
    return rows


COUNTERPARTS: dict[Counterpart, str] = {
    "send_loop": "SDK send() loop",
    "produce_flush": "SDK produce() + flush()",
    "send_batch": "SDK send_batch()",
    "drain": "SDK get_next()",
}
