"""How busy other programs kept this process's CPUs while it measured: what makes a speedup a lower bound.

Linux counts every CPU's busy time since boot in /proc/stat (user, nice, system, irq, softirq, and steal:
time a hypervisor gave this virtual CPU's host to someone else). Over a measurement, the busy time of the
CPUs this process may run on, less the CPU time of this process and its children, is what everything
else took. Elsewhere (no /proc/stat) it is unknown: None.
"""

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

#: The busy fields of a /proc/stat "cpuN" line, by position: user nice system idle iowait irq softirq steal.
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


@dataclass(frozen=True)
class CpuTimes:
    """One reading: the wall clock, the usable CPUs' busy seconds since boot, and this process's (and its
    children's) CPU seconds."""

    wall_s: float
    busy_s: float
    own_s: float
    cpus: int


def read_cpu_times(proc: str | os.PathLike[str] = "/proc") -> CpuTimes | None:
    """Now's reading, or None where /proc/stat cannot be read."""
    root = Path(proc)
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        text = (root / "stat").read_text()
    except OSError:
        return None
    busy, cpus = 0, 0
    for match in re.finditer(r"^cpu(\d+) (.*)$", text, re.MULTILINE):
        if usable is None or int(match[1]) in usable:
            fields = [int(value) for value in match[2].split()]
            busy += sum(fields[i] for i in _BUSY_FIELDS if i < len(fields))
            cpus += 1
    if cpus == 0:
        return None
    return CpuTimes(time.perf_counter(), busy / ticks, _own_cpu_s(root, ticks), cpus)


def _own_cpu_s(root: Path, ticks: int) -> float:
    """This process's CPU time, its ended children's, and its live descendants' however deep: a process
    pool's workers are the children of its forkserver, itself a child of this process."""
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    children: dict[str, list[str]] = {}
    spent: dict[str, float] = {}
    for stat in root.glob("[0-9]*/stat"):
        try:
            # pid (comm) state ppid ... utime stime cutime cstime: fields 4 and 14-17, counted after the ")".
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        if len(fields) > 14:
            children.setdefault(fields[1], []).append(stat.parent.name)
            # Its own time and its ended children's: a descendant's ended child is counted by its parent.
            spent[stat.parent.name] = sum(int(ticks_spent) for ticks_spent in fields[11:15]) / ticks
    pending = list(children.get(str(os.getpid()), ()))
    while pending:
        pid = pending.pop()
        total += spent[pid]
        pending += children.get(pid, ())
    return total


def others_busy_seconds(before: CpuTimes | None, after: CpuTimes | None) -> tuple[float, float] | None:
    """Between two readings: the CPU seconds other programs (and a hypervisor) took of the usable CPUs,
    and the CPU seconds those CPUs had; None where not read."""
    if before is None or after is None or after.wall_s <= before.wall_s:
        return None
    others = (after.busy_s - before.busy_s) - (after.own_s - before.own_s)
    return max(0.0, others), (after.wall_s - before.wall_s) * after.cpus


def others_busy_share(before: CpuTimes | None, after: CpuTimes | None) -> float | None:
    """The share of the usable CPUs' time that other programs took between two readings: 0 on an idle
    machine, 0.5 beside one spinning process on 2 CPUs; None where not read."""
    found = others_busy_seconds(before, after)
    return None if found is None else min(1.0, found[0] / found[1])
