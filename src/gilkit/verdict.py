"""The verdict: what a meter's reading says about the measured code, in words with the figures it rests on.

A meter (the heartbeats of gilkit.heartbeat, or the GIL timeline of gilkit.gil_timeline) reports how long
a thread that wanted the GIL waited for it, as a :class:`GilWait`; a probe adds how the code scaled on
threads. The verdict reads those figures alone, the same way whichever meter gave them.
"""

import math
import sys
from dataclasses import dataclass
from typing import Literal

from ._build import gil_enabled

Finding = Literal["no GIL", "releases", "releases, does not scale", "hands over", "holds"]

#: A median wait for the GIL below this (ms) means the GIL was free while the code ran.
RELEASED_BELOW_MS = 1.0
#: Above this many switch intervals, the code held the GIL without handing it over when asked.
HELD_SWITCH_INTERVALS = 3.0


@dataclass(frozen=True)
class GilWait:
    """How long a thread that wanted the GIL waited for it while the code ran (NaN: not measured)."""

    median_ms: float
    #: Long waits, which busy CPUs cannot hide: a held GIL shows here even when the median slips in between.
    p90_ms: float
    #: How long a wake-up waited for a CPU alone (the heartbeat's control; NaN where the meter has none).
    cpu_median_ms: float = math.nan
    #: The meter: "heartbeat" (a Python thread's lateness less the control's) or "timeline" (the GIL read:
    #: at each sample, how much longer its holder kept it while others waited; see GilTimeline.gil_wait).
    meter: str = "heartbeat"


@dataclass(frozen=True)
class Evidence:
    """Everything a verdict may rest on. Only ``wait`` is needed; the rest says whether threads helped."""

    wait: GilWait
    #: N calls on ``workers`` threads against N calls in a row.
    speedup: float | None = None
    workers: int = 1
    #: Process CPU time per wall time while the threads ran.
    cpu_per_wall: float | None = None
    #: The share of the threads' time spent waiting for a CPU.
    cpu_wait_share: float | None = None
    usable_cpus: int | None = None
    #: CPU time per wall time of one call alone: near the CPU count when it runs threads of its own.
    one_thread_cpu_per_wall: float | None = None
    #: Whether the measurement ran with the GIL enabled (None: as this interpreter runs now).
    gil: bool | None = None


@dataclass(frozen=True)
class Verdict:
    finding: Finding
    #: The finding in words, e.g. "holds the GIL but hands it over".
    text: str
    #: The figures it rests on.
    evidence: str

    def __str__(self) -> str:
        return f"{self.text} ({self.evidence})"


def verdict(evidence: Evidence) -> Verdict:
    """What the wait for the GIL says about the measured code.

    Its median says whether the GIL was free; its 90th percentile (the median when not known) whether the
    code held it for longer than the switch interval at a time (busy CPUs let a heartbeat slip in between
    such spans, which lowers the median). When the evidence has them, the speedup on several threads,
    their CPU time per wall time and the share of their time spent waiting for a CPU say whether threads
    helped, and if not, why."""
    e = evidence
    wait = e.wait
    switch_ms = 1000 * sys.getswitchinterval()
    scaling = "" if e.speedup is None or e.workers < 2 else f"; {e.speedup:.2f}x on {e.workers} threads"
    ran_at_once = "" if e.cpu_per_wall is None else f", CPU/wall {e.cpu_per_wall:.2f}"
    waited = "" if math.isnan(wait.cpu_median_ms) else f"; the control heartbeat waited {wait.cpu_median_ms:.2f} ms"
    if not (gil_enabled() if e.gil is None else e.gil):
        return Verdict("no GIL", "no GIL on this build: threads run at once whatever the code does",
                       f"free-threaded{scaling}{ran_at_once}")
    if math.isnan(wait.median_ms):
        if wait.meter == "timeline":
            return Verdict("releases", "not judged: no thread waited for the GIL", "no waits")
        return Verdict("releases", "not measured: the call ended before the first heartbeat", "no beats")
    late = (f"heartbeat {wait.median_ms:.2f} ms late for the GIL" if wait.meter == "heartbeat"
            else f"threads waited {wait.median_ms:.2f} ms for the GIL's holder to let go (median)")
    held = wait.median_ms if math.isnan(wait.p90_ms) else wait.p90_ms
    if held >= HELD_SWITCH_INTERVALS * switch_ms:
        held_how = ("at the 90th percentile" if wait.meter == "heartbeat"
                    else "of its own CPU time at the 90th percentile")
        return Verdict("holds", "holds the GIL without handing it over",
                       f"{late}, {held:.1f} ms {held_how}: more than {HELD_SWITCH_INTERVALS:g} switch "
                       f"intervals of {switch_ms:g} ms{waited}{scaling}{ran_at_once}")
    if wait.median_ms >= RELEASED_BELOW_MS:
        return Verdict("hands over", "holds the GIL but hands it over",
                       f"{late}: about the switch interval of {switch_ms:g} ms{waited}{scaling}{ran_at_once}")
    described = f"{late}{waited}{scaling}{ran_at_once}"
    cpus = e.usable_cpus or e.workers
    if e.speedup is None or e.workers < 2 or e.speedup >= 0.7 * min(e.workers, cpus):
        return Verdict("releases", "releases the GIL", described)
    if e.one_thread_cpu_per_wall is not None and e.one_thread_cpu_per_wall >= 0.7 * cpus:
        return Verdict("releases", "releases the GIL; one call already keeps every CPU busy (it runs threads "
                       "of its own), so more threads cannot help", f"{described}; one call alone: CPU/wall "
                       f"{e.one_thread_cpu_per_wall:.2f}")
    if e.cpu_wait_share is not None and e.cpu_wait_share > 0.25:
        return Verdict("releases", "releases the GIL; threads cannot help right now: the CPUs are busy",
                       f"{described}; the threads waited {e.cpu_wait_share:.0%} of the time for a CPU")
    memory_bound = e.cpu_per_wall is None or e.cpu_per_wall >= 0.7 * e.workers
    why = ("memory-bound, or limited by a shared resource" if memory_bound
           else "the threads ran one at a time: it serialises on a lock of its own")
    return Verdict("releases, does not scale", f"releases the GIL but does not scale ({why})", described)
