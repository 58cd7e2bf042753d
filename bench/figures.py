"""Which rows the table has: each figure, the baseline it is set against, and its target.

The targets are issue 4's: single produce and single consume at least 0.8 x the HTTP
ceiling, batch produce 250,000 and batch consume 300,000 msgs/s, end-to-end p50 5 ms and
p99 50 ms, RSS growth under 50 MB over 1,000,000 messages.
"""

from dataclasses import replace

from bench.phases import DbCeiling, HttpCeiling, Plan, ServerFigures
from bench.report import Baseline, Row, Target, at_least, at_most, below, ratio_at_least
from bench.wrk import WrkResult

MB = 1024 * 1024


def build_rows(plan: Plan, http: HttpCeiling, db: DbCeiling, figures: ServerFigures) -> list[Row]:
    n, batch = plan.clients, plan.batch
    post = Baseline("HTTP ceiling POST", http.produce.requests_per_second, "req/s")
    get = Baseline("HTTP ceiling GET", http.consume.requests_per_second, "req/s")
    db_batch = Baseline(f"DB {batch:,}-row INSERTs", db.batch_rows_per_second, "rows/s")
    return [
        Row(f"HTTP ceiling: POST produce, {n} clients", post.value, "req/s"),
        Row(f"HTTP ceiling: GET consume, {n} clients", get.value, "req/s"),
        Row(f"DB ceiling: single-row INSERT txns, {n} conns", db.single_rows_per_second, "rows/s"),
        Row(
            f"DB ceiling: {batch:,}-row INSERTs, {plan.batch_clients} conns",
            db_batch.value,
            "rows/s",
        ),
        *_single_rows(f"single produce, {n} clients", figures.produce, http.produce, post),
        *_single_rows(f"single consume, {n} consumers", figures.consume, http.consume, get),
        *_batch_rows(
            f"batch produce {batch:,} x {plan.message_bytes} B, {plan.batch_clients} clients",
            figures.produce_batch,
            figures.missing.get("produce_batch"),
            per_request=batch,
            baseline=db_batch,
            target=at_least(250_000, "msgs/s"),
        ),
        *_batch_rows(
            f"batch consume max_messages={batch:,}, {plan.batch_clients} consumers",
            figures.consume_batch,
            figures.missing.get("consume_batch"),
            per_request=0,
            baseline=None,
            target=at_least(300_000, "msgs/s"),
        ),
        *_e2e_rows(plan, figures),
        _rss_row(plan, figures),
    ]


def _single_rows(name: str, result: WrkResult, ceiling: WrkResult, base: Baseline) -> list[Row]:
    """Rate, latencies and CPU per message, each against the same numbers of the ceiling."""
    messages = _messages(result, 1)
    cpu = Baseline(base.name, ceiling.cpu_per_message_us(ceiling.requests), "us")
    return [
        Row(
            f"{name}: msgs/s",
            messages / result.seconds,
            "msgs/s",
            base,
            ratio_at_least(0.8, "HTTP ceiling"),
            note=_trouble(result),
        ),
        Row(f"{name}: p50", result.p50_ms, "ms", replace(base, value=ceiling.p50_ms, unit="ms")),
        Row(f"{name}: p99", result.p99_ms, "ms", replace(base, value=ceiling.p99_ms, unit="ms")),
        Row(f"{name}: server CPU per msg", result.cpu_per_message_us(messages), "us", cpu),
    ]


def _batch_rows(
    name: str,
    result: WrkResult | None,
    missing: str | None,
    *,
    per_request: int,
    baseline: Baseline | None,
    target: Target,
) -> list[Row]:
    if result is None:
        return [Row(name, None, "msgs/s", baseline, target, note=missing or "n/a")]
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
        reason = figures.missing.get("e2e", "n/a")
        return [Row(f"{name}: {p}", None, "ms", target=t, note=reason) for p, t in targets.items()]
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
        return Row(name, None, "MB", target=target, note=figures.missing.get("rss", ""))
    note = f"{figures.rss_before / MB:.0f} -> {figures.rss_after / MB:.0f} MB"
    growth = (figures.rss_after - figures.rss_before) / MB
    return Row(name, growth, "MB", target=target, note=note)
