"""HeartbeatProbe: a GIL meter you can put around any code.

A Python thread sleeps ``interval`` seconds at a time and records how late each wake-up is. Waking up
means running Python code again, which needs the GIL (on a GIL build). So the lateness shows what the
rest of the program does with the GIL:

* near 0 while other threads run outside it (native nogil code, blocking I/O, sleeping);
* about the switch interval (``sys.getswitchinterval()``, 5 ms) while another thread runs pure Python,
  which must hand the GIL over when asked;
* the whole length of a call that holds the GIL without ever offering it (the native-gil control).
"""

import math
import statistics
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Self, TypeVar

from ._validate import positive_seconds

T = TypeVar("T")


def quantile(ordered: Sequence[T], q: float) -> T:
    """The q-quantile of a non-empty sorted list, as one of its values (the nearest rank below)."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


#: The longest interval between beats: a meter needs several beats per call to say anything.
MAX_INTERVAL = 1.0


class HeartbeatProbe:
    """Context manager: ``with HeartbeatProbe() as probe: work()``, then read ``probe.median_ms``."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = positive_seconds("interval", interval, maximum=MAX_INTERVAL)
        self.lateness_s: list[float] = []
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("a HeartbeatProbe can be entered only once; make a new one")
        thread = self._thread = threading.Thread(target=self._beat, name="gilkit-heartbeat", daemon=True)
        thread.start()
        self._started.wait()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        interval = self.interval
        lateness = self.lateness_s
        self._started.set()
        while True:
            before = time.perf_counter()
            if self._stop.wait(interval):  # waits like a sleep, but ends as soon as the probe exits
                return
            lateness.append(max(0.0, time.perf_counter() - before - interval))

    @property
    def beats(self) -> int:
        """How many wake-ups were recorded."""
        return len(self.lateness_s)

    def _quantile_ms(self, q: float) -> float:
        return 1000.0 * quantile(sorted(self.lateness_s), q) if self.lateness_s else math.nan

    @property
    def median_ms(self) -> float:
        """Median wake-up lateness in milliseconds (nan before any beat)."""
        return 1000.0 * statistics.median(self.lateness_s) if self.lateness_s else math.nan

    @property
    def p99_ms(self) -> float:
        """99th-percentile wake-up lateness in milliseconds."""
        return self._quantile_ms(0.99)

    @property
    def max_ms(self) -> float:
        """Worst wake-up lateness in milliseconds."""
        return 1000.0 * max(self.lateness_s) if self.lateness_s else math.nan

    def __repr__(self) -> str:
        return (f"HeartbeatProbe(interval={self.interval}, beats={self.beats}, median_ms={self.median_ms:.3f}, "
                f"p99_ms={self.p99_ms:.3f}, max_ms={self.max_ms:.3f})")
