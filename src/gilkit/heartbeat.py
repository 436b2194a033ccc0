"""The GIL meter: heartbeats you can put around any code, and the verdict they support.

A Python thread sleeps ``interval`` seconds at a time and records how late each wake-up is. Waking up
means running Python code again, which needs the GIL (on a GIL build). So the lateness shows what the
rest of the program does with the GIL:

* near 0 while other threads run outside it (native nogil code, blocking I/O, sleeping);
* about the switch interval (``sys.getswitchinterval()``, 5 ms) while another thread runs pure Python,
  which must hand the GIL over when asked;
* the whole length of a call that holds the GIL without ever offering it (the native-gil control).

A wake-up is also late when every CPU is busy with other programs. So a second, control heartbeat
sleeps beside the first inside the compiled extension with the GIL released: it waits for a CPU but
never for the GIL. The GIL's share of the lateness is the difference between the two, and that
corrected figure is what every verdict of gilkit reads (`gilkit bench`, `gilkit probe`, the demos).
"""

import math
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self, TypeVar

import numpy as np

from . import _implementations
from ._info import gil_enabled
from ._validate import positive_seconds

T = TypeVar("T")


def quantile(ordered: Sequence[T], q: float) -> T:
    """The q-quantile of a non-empty sorted list, as one of its values (the nearest rank below)."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: list[float], q: float) -> float:
    """The q-quantile of ``values`` (seconds) in ms; the median for q=0.5; NaN for no values."""
    if not values:
        return math.nan
    if q == 0.5:
        return 1000.0 * statistics.median(values)
    return 1000.0 * quantile(sorted(values), q)


#: The longest interval between beats: a meter needs several beats per call to say anything.
MAX_INTERVAL = 1.0
#: Wake-ups the control heartbeat records per trip into the extension (then it appends them in Python).
_CONTROL_BATCH = 4096


class HeartbeatProbe:
    """Context manager: ``with HeartbeatProbe() as probe: work()``, then read ``probe.gil_median_ms``.

    ``median_ms``, ``p99_ms`` and ``max_ms`` are the Python heartbeat's lateness; ``control_*`` the
    control heartbeat's (NaN without the compiled extension); ``gil_*`` the difference, the GIL's share
    (the Python heartbeat's own figures when there is no control).
    """

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = positive_seconds("interval", interval, maximum=MAX_INTERVAL)
        self.lateness_s: list[float] = []
        self.control_lateness_s: list[float] = []
        self._stop = threading.Event()
        self._started = threading.Event()
        self._control_stop = np.zeros(1, dtype=np.intc)
        self._threads: list[threading.Thread] | None = None

    @property
    def controlled(self) -> bool:
        """Whether a control heartbeat runs (it needs the compiled extension)."""
        return _implementations.NATIVE_AVAILABLE

    def __enter__(self) -> Self:
        if self._threads is not None:
            raise RuntimeError("a HeartbeatProbe can be entered only once; make a new one")
        self._threads = [threading.Thread(target=self._beat, name="gilkit-heartbeat", daemon=True)]
        if self.controlled:
            self._threads.append(threading.Thread(target=self._control, name="gilkit-heartbeat-control",
                                                  daemon=True))
        for thread in self._threads:
            thread.start()
        self._started.wait()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        self._control_stop[0] = 1
        for thread in self._threads or ():
            thread.join()

    def _beat(self) -> None:
        interval = self.interval
        lateness = self.lateness_s
        self._started.set()
        while True:
            before = time.perf_counter()
            if self._stop.wait(interval):  # waits like a sleep, but ends as soon as the probe exits
                return
            lateness.append(max(0.0, time.perf_counter() - before - interval))

    def _control(self) -> None:
        control_beats = _implementations.native_module("_heartbeat").control_beats
        batch = np.empty(_CONTROL_BATCH)
        while not self._control_stop[0]:
            beats = control_beats(self.interval, batch, self._control_stop)
            self.control_lateness_s += batch[:beats].tolist()

    @property
    def beats(self) -> int:
        """How many wake-ups the Python heartbeat recorded."""
        return len(self.lateness_s)

    @property
    def median_ms(self) -> float:
        """Median wake-up lateness in milliseconds (nan before any beat)."""
        return _ms(self.lateness_s, 0.5)

    @property
    def p99_ms(self) -> float:
        """99th-percentile wake-up lateness in milliseconds."""
        return _ms(self.lateness_s, 0.99)

    @property
    def max_ms(self) -> float:
        """Worst wake-up lateness in milliseconds."""
        return _ms(self.lateness_s, 1.0)

    @property
    def control_median_ms(self) -> float:
        """The control heartbeat's median lateness: how long a wake-up waited for a CPU."""
        return _ms(self.control_lateness_s, 0.5)

    @property
    def control_p99_ms(self) -> float:
        return _ms(self.control_lateness_s, 0.99)

    def _gil_ms(self, q: float) -> float:
        python = _ms(self.lateness_s, q)
        if not self.control_lateness_s:
            return python
        return max(0.0, python - _ms(self.control_lateness_s, q))

    @property
    def gil_median_ms(self) -> float:
        """The GIL's share of the median lateness: the Python heartbeat's less the control's."""
        return self._gil_ms(0.5)

    @property
    def gil_p90_ms(self) -> float:
        return self._gil_ms(0.9)

    @property
    def gil_p99_ms(self) -> float:
        return self._gil_ms(0.99)

    @property
    def gil_max_ms(self) -> float:
        return self._gil_ms(1.0)

    def __repr__(self) -> str:
        return (f"HeartbeatProbe(interval={self.interval}, beats={self.beats}, median_ms={self.median_ms:.3f}, "
                f"p99_ms={self.p99_ms:.3f}, max_ms={self.max_ms:.3f}, control_median_ms="
                f"{self.control_median_ms:.3f}, gil_median_ms={self.gil_median_ms:.3f})")


# --- the verdict ----------------------------------------------------------------------------------

Finding = Literal["no GIL", "releases", "releases, does not scale", "hands over", "holds"]

#: A GIL share of the median lateness below this (ms) means the GIL was free while the code ran.
RELEASED_BELOW_MS = 1.0
#: Above this many switch intervals, the code held the GIL without handing it over when asked.
HELD_SWITCH_INTERVALS = 3.0


@dataclass(frozen=True)
class Verdict:
    finding: Finding
    #: The finding in words, e.g. "holds the GIL but hands it over".
    text: str
    #: The figures it rests on.
    evidence: str

    def __str__(self) -> str:
        return f"{self.text} ({self.evidence})"


def verdict(gil_median_ms: float, *, gil_p90_ms: float | None = None, control_median_ms: float = math.nan,
            speedup: float | None = None, workers: int = 1, cpu_per_wall: float | None = None,
            cpu_wait_share: float | None = None, usable_cpus: int | None = None,
            one_thread_cpu_per_wall: float | None = None, gil: bool | None = None) -> Verdict:
    """What the GIL's share of the heartbeat lateness says about the measured code.

    Its median says whether the GIL was free; its 90th percentile (the median when not given) whether
    the code held it for longer than the switch interval at a time (busy CPUs let the heartbeat slip in
    between such spans, which lowers the median). When given, the speedup on ``workers`` threads, their
    CPU time per wall time and the share of their time spent waiting for a CPU say whether threads
    helped, and if not, why (``one_thread_cpu_per_wall``: whether one call alone already keeps every
    CPU busy, as a multithreaded library does). ``gil``: whether the measurement ran with the GIL
    enabled (default: as this interpreter runs now)."""
    switch_ms = 1000 * sys.getswitchinterval()
    scaling = "" if speedup is None or workers < 2 else f"; {speedup:.2f}x on {workers} threads"
    ran_at_once = "" if cpu_per_wall is None else f", CPU/wall {cpu_per_wall:.2f}"
    waited = "" if math.isnan(control_median_ms) else f"; the control heartbeat waited {control_median_ms:.2f} ms"
    if not (gil_enabled() if gil is None else gil):
        return Verdict("no GIL", "no GIL on this build: threads run at once whatever the code does",
                       f"free-threaded{scaling}{ran_at_once}")
    if math.isnan(gil_median_ms):
        return Verdict("releases", "not measured: the call ended before the first heartbeat", "no beats")
    late = f"heartbeat {gil_median_ms:.2f} ms late for the GIL"
    held = gil_median_ms if gil_p90_ms is None or math.isnan(gil_p90_ms) else gil_p90_ms
    if held >= HELD_SWITCH_INTERVALS * switch_ms:
        return Verdict("holds", "holds the GIL without handing it over",
                       f"{late}, {held:.1f} ms at the 90th percentile: more than {HELD_SWITCH_INTERVALS:g} switch "
                       f"intervals of {switch_ms:g} ms{waited}{scaling}{ran_at_once}")
    if gil_median_ms >= RELEASED_BELOW_MS:
        return Verdict("hands over", "holds the GIL but hands it over",
                       f"{late}: about the switch interval of {switch_ms:g} ms{waited}{scaling}{ran_at_once}")
    evidence = f"{late}{waited}{scaling}{ran_at_once}"
    cpus = usable_cpus or workers
    if speedup is None or workers < 2 or speedup >= 0.7 * min(workers, cpus):
        return Verdict("releases", "releases the GIL", evidence)
    if one_thread_cpu_per_wall is not None and one_thread_cpu_per_wall >= 0.7 * cpus:
        return Verdict("releases", "releases the GIL; one call already keeps every CPU busy (it runs threads "
                       "of its own), so more threads cannot help", f"{evidence}; one call alone: CPU/wall "
                       f"{one_thread_cpu_per_wall:.2f}")
    if cpu_wait_share is not None and cpu_wait_share > 0.25:
        return Verdict("releases", "releases the GIL; threads cannot help right now: the CPUs are busy",
                       f"{evidence}; the threads waited {cpu_wait_share:.0%} of the time for a CPU")
    why = ("memory-bound, or limited by a shared resource" if cpu_per_wall is None or cpu_per_wall >= 0.7 * workers
           else "the threads ran one at a time: it serialises on a lock of its own")
    return Verdict("releases, does not scale", f"releases the GIL but does not scale ({why})", evidence)
