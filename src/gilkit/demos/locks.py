"""`gilkit demo locks`: shared data written by threads needs a lock, held for the smallest scope."""

import sys
import threading
import time
from typing import Any

import numpy as np

from .. import _implementations
from .._build import gil_enabled
from .._validate import integer
from ._catalog import LOCKS_OPTIONS
from ._result import DemoResult

THREADS, UPDATES = LOCKS_OPTIONS


def locks_demo(threads: int = 4, updates: int = 100_000, bins: int = 16) -> DemoResult:
    """A shared histogram filled by ``threads`` threads, ``updates`` values each, four ways."""
    threads, updates = THREADS.whole(threads), UPDATES.whole(updates)
    bins = integer("bins", bins, minimum=1, maximum=1 << 20)
    values = np.random.default_rng(0).random(threads * updates)
    lo, width = 0.0, 1.0 / bins
    expected = np.bincount(((values - lo) / width).astype(np.int64), minlength=bins)
    view = values.data  # a memoryview: indexing it gives Python floats, as a list would
    slices = [(t * updates, (t + 1) * updates) for t in range(threads)]

    def bucket(x: float) -> int:
        return int((x - lo) / width)

    def unlocked(hist: list[int], lock: threading.Lock, start: int, stop: int) -> None:
        for k in range(start, stop):
            # read, compute, write: another thread may write the same bin in between; its update is lost
            hist[bucket(view[k])] = hist[bucket(view[k])] + 1

    def lock_every_update(hist: list[int], lock: threading.Lock, start: int, stop: int) -> None:
        for k in range(start, stop):
            with lock:
                hist[bucket(view[k])] += 1

    def local_then_merge(hist: list[int], lock: threading.Lock, start: int, stop: int) -> None:
        local = [0] * bins
        for k in range(start, stop):
            local[bucket(view[k])] += 1
        with lock:
            for b in range(bins):
                hist[b] += local[b]

    def native_then_merge(hist: list[int], lock: threading.Lock, start: int, stop: int) -> None:
        local = np.zeros(bins, dtype=np.int64)
        _implementations.chunk_function(_implementations.ACTIVE_IMPLEMENTATION, "histogram", "histogram_counts")(
            view, lo, width, local.data, start, stop)
        with lock:
            for b in range(bins):
                hist[b] += int(local[b])

    variants = [
        ("no lock", unlocked),
        ("lock every update", lock_every_update),
        ("local, merge under lock", local_then_merge),
        ("native nogil, merge under lock" if _implementations.NATIVE_AVAILABLE else "python twin, merge under lock",
         native_then_merge),
    ]
    rows: list[list[Any]] = []
    for name, fill in variants:
        hist, lock = [0] * bins, threading.Lock()
        previous = sys.getswitchinterval()
        if fill is unlocked and gil_enabled():
            sys.setswitchinterval(1e-6)  # switch threads as often as possible, to provoke the race
        try:
            start = time.perf_counter()
            workers = [threading.Thread(target=fill, args=(hist, lock, *span)) for span in slices]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            seconds = time.perf_counter() - start
        finally:
            sys.setswitchinterval(previous)
        lost = int(expected.sum()) - sum(hist)
        rows.append([name, seconds, lost, "yes" if hist == expected.tolist() else "NO"])
    lost_unlocked = rows[0][2]
    race = (f"without a lock {lost_unlocked:,} of {threads * updates:,} updates were lost" if lost_unlocked
            else "without a lock no update happened to be lost in this run (the race is real but was not hit; "
                 "run it again or with more threads)")
    finding = (f"{race}; a lock around every update is correct but takes {rows[1][1] / rows[2][1]:.1f}x as long "
               f"as local counts merged under the lock once, and the nogil kernel does the same "
               f"{rows[2][1] / rows[3][1]:.0f}x faster still.")
    return DemoResult("locks", ["variant", "seconds", "lost updates", "correct"], rows, finding)
