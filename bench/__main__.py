"""``python -m bench``: measure LogQueue against ceilings measured in the same run.

Order of a run: set-up (wrk, PostgreSQL, a fresh schema), the HTTP ceiling (a bare
FastAPI app under the same uvicorn flags), the database ceiling (asyncpg, no HTTP), the
real server's figures and the SDK loads users run, the HTTP ceiling and the server again
with two workers, the anchors (NATS JetStream, Redis Streams), and one table of all of them.
"""

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from bench import phases, server
from bench.figures import Results, build_rows
from bench.phases import Plan, log
from bench.report import load_average, markdown_report, text_table
from bench.wrk import ensure_wrk


def main(argv: list[str] | None = None) -> None:
    options = _parse(argv)
    plan = Plan(seconds=options.duration, profile_dir=options.profile)
    if options.quick:
        plan = replace(
            plan, seconds=min(plan.seconds, 2.0), rss_messages=50_000, sdk_messages=10_000
        )
    database = server.Database(options.database)
    log(f"wrk at {ensure_wrk()}; PostgreSQL database {database.name} via scripts/dev-postgres.sh")
    server.ensure_postgres(database)
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="logqueue-bench-") as tmp:
        logs = Path(tmp)
        results = Results(
            plan,
            http=phases.http_ceiling(plan, logs),
            db=phases.database_ceiling(plan, database),
            server=phases.real_server(plan, database, logs),
            http_more=phases.http_ceiling(plan, logs, workers=plan.workers),
            server_more=phases.more_workers(plan, database, logs),
            anchors=tuple(phases.anchors(plan, logs)),
        )
    rows = build_rows(results)
    print(text_table(rows))
    if options.markdown:
        report = markdown_report(rows, load_before=load_before, load_after=load_average())
        options.markdown.write_text(report)
        log(f"Markdown table written to {options.markdown}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short smoke run (2 s phases, 10,000 messages for the fixed-count loads)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the table here as Markdown")
    parser.add_argument(
        "--profile", type=Path, help="write py-spy flame graphs of the server's phases here"
    )
    parser.add_argument(
        "--database",
        default="logqueue_bench",
        help="PostgreSQL database to use; everything in it is dropped (default: %(default)s)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
