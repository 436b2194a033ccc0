"""The verdict: what a meter's reading says about the measured code, in words with the figures it rests on.

Two meters feed it. Where the GIL can be read (gilkit.gil_timeline's sampler: CPython 3.11-3.13 on
Linux), a :class:`GilReading` of the workers: the share of the time the GIL was free, each worker's share
holding it, and how long a holder kept it while others waited. Elsewhere, the heartbeats of
gilkit.heartbeat, which infer the GIL from a sleeping thread's lateness, as a :class:`GilWait`. A probe
and the bench add how the code scaled on threads. Every threshold a verdict or a figure of gilkit is
judged by is stated here, once.
"""

import math
import sys
from dataclasses import dataclass
from typing import Literal

from ._build import gil_enabled

Finding = Literal["no GIL", "releases", "releases, does not scale", "hands over", "holds"]

#: The sampler found the GIL free for at least this share of the time the workers ran: they released it.
#: Code that needs the GIL all the time leaves it free only while it changes hands: gilkit's GIL-holding
#: impls read 0-16% free on 2 workers, idle or beside a spinning process. Its nogil kernels read 56-97%
#: (sum_squares lowest: its chunks are so short that the Python handing them out holds the GIL a third of
#: the time). The threshold sits between, far from both.
RELEASED_FREE_SHARE = 0.3
#: A heartbeat's median wait for the GIL below this (ms) means the GIL was free while the code ran.
RELEASED_BELOW_MS = 1.0
#: Above this many switch intervals, the code held the GIL without handing it over when asked.
HELD_SWITCH_INTERVALS = 3.0
#: A speedup is reported with the 95% interval of its median (gilkit._stats); the bench times more rounds
#: until the interval is within +/- this share of the median, and marks a cell whose interval stayed wider.
INTERVAL_TARGET = 0.10
#: Where the GIL was held, a speedup whose whole interval lies above this is not parallelism: the bench
#: re-measures it, and flags it if it persists. (So is one whose interval lies above the workers used.)
HELD_SPEEDUP_LIMIT = 1.15
#: Other programs took more than this share of the usable CPUs while a cell was timed: its speedup is a
#: lower bound, and the first screen says so.
BUSY_SHARE = 0.20


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
class GilReading:
    """The GIL as the sampler read it while the workers ran (GilTimeline.reading): what a verdict takes
    first, where the GIL can be read."""

    #: The share of the samples that found the GIL free.
    free_share: float
    #: Each worker thread's share of its time spent holding the GIL (empty where the workers are unknown).
    held_shares: tuple[float, ...]
    #: Changes of the GIL's holder, by the interpreter's own counter, over ``seconds`` of recording.
    switches: int
    seconds: float
    #: How long a holder kept the GIL while another thread waited (meter "timeline"; NaN: nobody waited).
    wait: GilWait

    @property
    def released(self) -> bool:
        return self.free_share >= RELEASED_FREE_SHARE

    @property
    def held_text(self) -> str:
        """Each worker's share holding the GIL, "49%/48%" ("" where the workers are unknown)."""
        return "/".join(f"{share:.0%}" for share in self.held_shares)

    def brief(self) -> str:
        """The reading in a few words, for a table cell: "GIL free 97%" or "held 49%/48%"."""
        if self.released or not self.held_shares:
            return f"GIL free {self.free_share:.0%}"
        return f"held {self.held_text}"

    def __str__(self) -> str:
        return (f"GIL free {self.free_share:.0%} of {self.seconds:.2f} s, {self.switches} switches"
                + (f"; the threads held it {self.held_text}" if self.held_shares else ""))


@dataclass(frozen=True)
class Evidence:
    """Everything a verdict may rest on: the sampler's ``reading`` where the GIL was read, else the
    heartbeats' ``wait``; the rest says whether threads helped."""

    wait: GilWait
    reading: GilReading | None = None
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
    """What the GIL's reading says about the measured code.

    From the sampler's reading: the GIL free at least RELEASED_FREE_SHARE of the time means the code
    released it; otherwise it was held, and how long a holder kept it while others waited (at the 90th
    percentile, in the holder's own CPU time) tells holding it through from handing it over. From the
    heartbeats: the median wait says whether the GIL was free, its 90th percentile (the median when not
    known) whether the code held it for longer than the switch interval at a time (busy CPUs let a
    heartbeat slip in between such spans, which lowers the median). When the evidence has them, the
    speedup on several threads, their CPU time per wall time and the share of their time spent waiting for
    a CPU say whether threads helped, and if not, why."""
    e = evidence
    scaling = "" if e.speedup is None or e.workers < 2 else f"; {e.speedup:.2f}x on {e.workers} threads"
    ran_at_once = "" if e.cpu_per_wall is None else f", CPU/wall {e.cpu_per_wall:.2f}"
    if not (gil_enabled() if e.gil is None else e.gil):
        return Verdict("no GIL", "no GIL on this build: threads run at once whatever the code does",
                       f"free-threaded{scaling}{ran_at_once}")
    if e.reading is not None:
        read = str(e.reading)
        if e.reading.released:
            return _released(e, f"{read}{scaling}{ran_at_once}")
        if math.isnan(e.reading.wait.median_ms):
            return Verdict("holds", "holds the GIL; no other thread asked for it, so whether it hands it over "
                           "is not known", f"{read}{scaling}{ran_at_once}")
        return _held(e.reading.wait, read, f"{scaling}{ran_at_once}")
    wait = e.wait  # the heartbeats' reading
    if math.isnan(wait.median_ms):
        return Verdict("releases", "not measured: the call ended before the meter's first reading", "no readings")
    waited = "" if math.isnan(wait.cpu_median_ms) else f"; the control heartbeat waited {wait.cpu_median_ms:.2f} ms"
    late = f"heartbeat {wait.median_ms:.2f} ms late for the GIL"
    if wait.median_ms < RELEASED_BELOW_MS and _held_ms(wait) < HELD_SWITCH_INTERVALS * _switch_ms():
        return _released(e, f"{late}{waited}{scaling}{ran_at_once}")
    return _held(wait, late, f"{waited}{scaling}{ran_at_once}")


def _switch_ms() -> float:
    return 1000 * sys.getswitchinterval()


def _held_ms(wait: GilWait) -> float:
    """How long a holder kept the GIL at a time: the 90th percentile, or the median where that is unknown."""
    return wait.median_ms if math.isnan(wait.p90_ms) else wait.p90_ms


def _held(wait: GilWait, read: str, rest: str) -> Verdict:
    """The GIL was held: through the switch interval ("holds") or handed over when asked."""
    held, switch_ms = _held_ms(wait), _switch_ms()
    if held >= HELD_SWITCH_INTERVALS * switch_ms:
        held_how = ("at the 90th percentile" if wait.meter == "heartbeat"
                    else "of its own CPU time at the 90th percentile, while others waited")
        return Verdict("holds", "holds the GIL without handing it over",
                       f"{read}; held {held:.1f} ms {held_how}: more than {HELD_SWITCH_INTERVALS:g} switch "
                       f"intervals of {switch_ms:g} ms{rest}")
    handed = (f"; a holder kept it {wait.median_ms:.2f} ms (median) once another thread asked"
              if wait.meter == "timeline" else "")
    return Verdict("hands over", "holds the GIL but hands it over",
                   f"{read}{handed}: about the switch interval of {switch_ms:g} ms{rest}")


def _released(e: Evidence, described: str) -> Verdict:
    """The GIL was free: did threads help, and if not, why?"""
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
