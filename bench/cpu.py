"""CPU time of a process and everything it started, read from ``/proc``.

On a machine shared with other work, CPU per message is steadier than messages per second,
because it does not count the time a process waited for a core. A uvicorn supervisor with
``--workers 2`` does no request work itself, so its workers (its children) are counted too.
"""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU of ``pid`` and its living descendants so far."""
    children = _children()
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += _own_cpu_seconds(current)
        todo.extend(children.get(current, ()))
    return total


def _own_cpu_seconds(pid: int) -> float:
    try:
        fields = _stat_fields(pid)
    except FileNotFoundError:  # it exited between the listing and the read
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _stat_fields(pid: int) -> list[str]:
    """The fields after the command name, which may itself hold spaces and parentheses."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    return tree
