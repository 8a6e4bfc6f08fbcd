"""CPU time and memory of a process tree, read from /proc (Linux).

psutil would do this too, but it is not a dependency of Kern and the benchmark needs only three
numbers per process, which /proc gives in a few lines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The direct children of a process (from every one of its threads)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def tree(root: int) -> list[int]:
    """The process and all its descendants that are alive now, parents first."""
    pids, index = [root], 0
    while index < len(pids):
        pids += children(pids[index])
        index += 1
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def cpu_seconds(pid: int) -> float:
    """User + system time of the process and of its children that have exited and been reaped.

    Summed over a live tree this counts every CPU second once: a live child's time is only its
    own, and a child that has exited is in its parent's cutime/cstime.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # The command name is in parentheses and may contain spaces; the fields follow it.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def tree_cpu_seconds(root: int) -> float:
    return sum(cpu_seconds(pid) for pid in tree(root))


@dataclass(frozen=True)
class Memory:
    """Resident and proportional set size in bytes (PSS splits shared pages among sharers)."""

    rss: int = 0
    pss: int = 0

    def __add__(self, other: Memory) -> Memory:
        return Memory(self.rss + other.rss, self.pss + other.pss)


def rollup_values(text: str) -> dict[str, int]:
    """Every field of /proc/<pid>/smaps_rollup, in bytes (Rss, Pss, Shared_Dirty, ...)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            values[name] = int(parts[0]) * 1024
    return values


def rollup(pid: int) -> dict[str, int]:
    """The process's smaps_rollup fields in bytes; empty when it is gone or not ours to read."""
    try:
        return rollup_values(Path(f"/proc/{pid}/smaps_rollup").read_text())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return {}


def parse_smaps_rollup(text: str) -> Memory:
    values = rollup_values(text)
    return Memory(rss=values.get("Rss", 0), pss=values.get("Pss", 0))


def memory(pid: int) -> Memory:
    values = rollup(pid)
    return Memory(rss=values.get("Rss", 0), pss=values.get("Pss", 0))


def tree_memory(root: int) -> Memory:
    total = Memory()
    for pid in tree(root):
        total += memory(pid)
    return total


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


# /proc/net/tcp's states for a connection the server still holds: open, or closed by the client
# and not yet by the server.
_HELD_STATES = {"01", "08"}  # ESTABLISHED, CLOSE_WAIT


def connections_held(port: int) -> int:
    """How many TCP connections to the local `port` its server still holds, on this machine
    (the server's end of each: its local port is `port`)."""
    held = 0
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] in _HELD_STATES:
                held += 1
    return held
