"""The results table: each figure beside the baseline measured in the same run and its target."""

import os
import platform
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

COLUMNS = ("figure", "value", "baseline (same run)", "ratio", "target", "met")


@dataclass(frozen=True)
class Baseline:
    name: str
    value: float
    unit: str


@dataclass(frozen=True)
class Target:
    text: str
    met: Callable[[float, float | None], bool]
    """Called with the figure's value and its ratio to the baseline (None without one)."""


@dataclass(frozen=True)
class Row:
    figure: str
    value: float | None
    unit: str
    baseline: Baseline | None = None
    target: Target | None = None
    note: str = ""
    """Why there is no value (a feature the server lacks), or what to know about it."""

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.baseline is None or not self.baseline.value:
            return None
        return self.value / self.baseline.value

    def cells(self) -> tuple[str, ...]:
        value = self.note if self.value is None else _amount(self.value, self.unit)
        if self.value is not None and self.note:
            value += f" ({self.note})"
        baseline = (
            f"{_amount(self.baseline.value, self.baseline.unit)} {self.baseline.name}"
            if self.baseline
            else ""
        )
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}"
        return (self.figure, value, baseline, ratio, self.target_text, self.verdict)

    @property
    def target_text(self) -> str:
        return self.target.text if self.target else ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.value is None:
            return "not measured"
        return "met" if self.target.met(self.value, self.ratio) else "NOT met"


def at_least(limit: float, unit: str) -> Target:
    return Target(f">= {_amount(limit, unit)}", lambda value, _ratio: value >= limit)


def at_most(limit: float, unit: str) -> Target:
    return Target(f"<= {_amount(limit, unit)}", lambda value, _ratio: value <= limit)


def below(limit: float, unit: str) -> Target:
    return Target(f"< {_amount(limit, unit)}", lambda value, _ratio: value < limit)


def ratio_at_least(limit: float, of: str) -> Target:
    return Target(
        f">= {limit:g} x {of}", lambda _value, ratio: ratio is not None and ratio >= limit
    )


def ratio_at_most(limit: float, of: str) -> Target:
    return Target(
        f"<= {limit:g} x {of}", lambda _value, ratio: ratio is not None and ratio <= limit
    )


def both(first: Target, second: Target) -> Target:
    return Target(
        f"{first.text} and {second.text}",
        lambda value, ratio: first.met(value, ratio) and second.met(value, ratio),
    )


def _amount(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MB":
        return f"{round(value, 1) + 0.0:.1f} MB"  # + 0.0 turns -0.0 into 0.0
    return f"{value:,.0f} {unit}"


def text_table(rows: list[Row]) -> str:
    """Aligned columns for the terminal."""
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(rows: list[Row]) -> str:
    """The same table, ready to paste into docs/benchmarks.md."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def load_average() -> str:
    """The 1-minute load average: how much else the machine was running."""
    return Path("/proc/loadavg").read_text().split()[0]


def machine() -> str:
    """One line naming what the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024**2:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def markdown_report(rows: list[Row], *, load_before: str, load_after: str) -> str:
    """Machine, date, command and load around the table, as docs/benchmarks.md wants them."""
    command = shlex.join(["python", "-m", "bench", *sys.argv[1:]])
    return "\n".join(
        [
            f"- machine: {machine()}",
            f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- command: `{command}`",
            f"- 1-minute load average before / after: {load_before} / {load_after}",
            "",
            markdown_table(rows),
            "",
        ]
    )
