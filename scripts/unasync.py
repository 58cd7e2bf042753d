"""Generate the synchronous SDK, and the synchronous twins of its tests, from the async code.

The asyncio flavour is written by hand; this rewrites it line by line (``async def`` ->
``def``, ``await x`` -> ``x``, ``AsyncProducer`` -> ``Producer``, ...), then lets ruff sort
the imports and format the result, so the two flavours cannot drift apart. What differs
in more than spelling (events, locks, sleeps, tasks vs threads, when a constructor may
register) lives in small hand-written pairs, ``_primitives.py`` and ``_lifecycle.py``, with
the same names in both packages; those are not generated.

    python scripts/unasync.py           # rewrite the generated files
    python scripts/unasync.py --check   # fail if one is missing or out of date (make lint)
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK = Path("sdk/logqueue_sdk")
HAND_WRITTEN_PAIRS = {"_primitives.py", "_lifecycle.py"}
TESTS = Path("tests/sdk")
"""Where the twin tests are: ``test_async.py`` and every ``test_<what>_async.py`` are written
by hand, and ``test_sync.py`` / ``test_<what>_sync.py`` generated from them."""

SUBSTITUTIONS = [
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\basynccontextmanager\b", "contextmanager"),
    (r"\bStopAsyncIteration\b", "StopIteration"),
    (r"\bAwaitable\[([^\[\]]*)\]", r"\1"),
    (r"\bAsync([A-Z])", r"\1"),  # AsyncProducer, AsyncIterator, httpx.AsyncClient
    (r"\baclose\b", "close"),
    (r"\ba(next|iter)\(", r"\1("),
    (r"\.aiter_(\w+)\(", r".iter_\1("),  # httpx: response.aiter_lines() and the like
    (r"\.aread\(", ".read("),
    (r"__a(enter|exit|iter|next)__", r"__\1__"),
    (r"\basynchronous\b", "synchronous"),
    (r"\bAsynchronous\b", "Synchronous"),
]
COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in SUBSTITUTIONS]


def pairs() -> list[tuple[Path, Path]]:
    """(async source, sync target) for every generated file, relative to the repository."""
    sources = sorted((ROOT / SDK / "_async").glob("*.py"))
    found = [
        (SDK / "_async" / path.name, SDK / "_sync" / path.name)
        for path in sources
        if path.name not in HAND_WRITTEN_PAIRS
    ]
    tests = sorted([ROOT / TESTS / "test_async.py", *(ROOT / TESTS).glob("test_*_async.py")])
    twins = [(TESTS / p.name, TESTS / (p.name.removesuffix("async.py") + "sync.py")) for p in tests]
    return found + twins


def unasync_line(line: str) -> str:
    for pattern, replacement in COMPILED:
        line = pattern.sub(replacement, line)
    return line


def generate(source: Path, target: Path) -> str:
    """The sync twin of ``source``, as ``target`` should read."""
    text = (ROOT / source).read_text()
    body = "".join(unasync_line(line) for line in text.splitlines(keepends=True))
    header = f"# Generated from {source} by scripts/unasync.py; edit that file.\n"
    return _ruff(_ruff(header + body, target, "check", "--fix", "--exit-zero"), target, "format")


def _ruff(text: str, target: Path, *args: str) -> str:
    """Run ruff on ``text`` as if it were ``target`` (so the project's settings apply)."""
    command = [sys.executable, "-m", "ruff", *args, "--quiet", "--stdin-filename", str(target)]
    done = subprocess.run(
        command, input=text, capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode:
        raise SystemExit(f"ruff {args[0]} failed on the generated {target}:\n{done.stderr}")
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if stale")
    check = parser.parse_args().check
    stale = []
    for source, target in pairs():
        wanted = generate(source, target)
        path = ROOT / target
        current = path.read_text() if path.exists() else None
        if current == wanted:
            continue
        stale.append(target)
        if not check:
            path.write_text(wanted)
            print(f"wrote {target}")
    if check and stale:
        names = ", ".join(map(str, stale))
        print(f"out of date: {names}; run `make unasync` and commit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
