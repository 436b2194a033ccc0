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
corrected figure is what every verdict of gilkit reads (`gilkit bench`, `gilkit probe`, the demos);
gilkit.verdict turns it into words. The GIL timeline (gilkit.gil_timeline) is the other meter: it reads
the GIL itself instead of inferring it from a sleeper's lateness.
"""

import threading
import time
from types import TracebackType
from typing import Self

import numpy as np

from . import _implementations
from ._durations import Durations
from ._validate import positive_seconds
from .verdict import GilWait


def gil_share_ms(lateness: Durations, control: Durations, q: float) -> float:
    """The GIL's share of the q-quantile lateness: the Python heartbeat's less the control's, never below
    0 (the Python heartbeat's own figure when there is no control)."""
    python = lateness.ms(q)
    if not control:
        return python
    return max(0.0, python - control.ms(q))


def gil_wait(lateness: Durations, control: Durations) -> GilWait:
    """The heartbeats' reading in the shape every verdict reads."""
    return GilWait(gil_share_ms(lateness, control, 0.5), gil_share_ms(lateness, control, 0.9),
                   control.median_ms, meter="heartbeat")


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
    def lateness(self) -> Durations:
        """The Python heartbeat's wake-ups: how late each was."""
        return Durations.of(self.lateness_s)

    @property
    def control(self) -> Durations:
        """The control heartbeat's wake-ups: how long each waited for a CPU (none without the extension)."""
        return Durations.of(self.control_lateness_s)

    def gil_wait(self) -> GilWait:
        """The reading a verdict reads (gilkit.verdict)."""
        return gil_wait(self.lateness, self.control)

    @property
    def beats(self) -> int:
        """How many wake-ups the Python heartbeat recorded."""
        return len(self.lateness_s)

    @property
    def median_ms(self) -> float:
        """Median wake-up lateness in milliseconds (nan before any beat)."""
        return self.lateness.median_ms

    @property
    def p99_ms(self) -> float:
        """99th-percentile wake-up lateness in milliseconds."""
        return self.lateness.p99_ms

    @property
    def max_ms(self) -> float:
        """Worst wake-up lateness in milliseconds."""
        return self.lateness.max_ms

    @property
    def control_median_ms(self) -> float:
        """The control heartbeat's median lateness: how long a wake-up waited for a CPU."""
        return self.control.median_ms

    @property
    def control_p99_ms(self) -> float:
        return self.control.p99_ms

    @property
    def gil_median_ms(self) -> float:
        """The GIL's share of the median lateness: the Python heartbeat's less the control's."""
        return gil_share_ms(self.lateness, self.control, 0.5)

    @property
    def gil_p90_ms(self) -> float:
        return gil_share_ms(self.lateness, self.control, 0.9)

    @property
    def gil_p99_ms(self) -> float:
        return gil_share_ms(self.lateness, self.control, 0.99)

    @property
    def gil_max_ms(self) -> float:
        return gil_share_ms(self.lateness, self.control, 1.0)

    def __repr__(self) -> str:
        return (f"HeartbeatProbe(interval={self.interval}, beats={self.beats}, median_ms={self.median_ms:.3f}, "
                f"p99_ms={self.p99_ms:.3f}, max_ms={self.max_ms:.3f}, control_median_ms="
                f"{self.control_median_ms:.3f}, gil_median_ms={self.gil_median_ms:.3f})")
