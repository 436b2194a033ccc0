"""The other lessons as runnable, measured demos (`gilkit demo io|locks|responsive`).

Each demo is a function that runs the experiment and returns a :class:`DemoResult`: a small table of
what it measured and the finding in one sentence, worded from the numbers (so it stays honest on a
free-threaded build, where some findings change).
"""

import os
import random
import socket
import socketserver
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _implementations, kernels
from ._info import build_label, gil_enabled
from ._steady import INSIDE, chunk_max_iter
from ._text import aligned
from ._validate import integer, positive_seconds
from .heartbeat import HeartbeatProbe, quantile, verdict


@dataclass
class DemoResult:
    name: str
    columns: list
    rows: list
    finding: str

    def table(self):
        lines = aligned([self.columns] + [[_cell(value) for value in row] for row in self.rows])
        return "\n".join([f"gilkit demo {self.name} on {build_label()}", "", *lines, "", self.finding])

    def as_dict(self):
        return {"name": self.name, "columns": self.columns, "rows": self.rows, "finding": self.finding}


def _cell(value):
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.4g}"
    return str(value)


# --- 1. I/O: threads help blocking I/O even with the GIL ------------------------------------------


class _SlowEchoServer(socketserver.ThreadingTCPServer):
    """Echoes each request after ``latency`` seconds: a remote service, on 127.0.0.1 only."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, latency):
        self.latency = latency
        super().__init__(("127.0.0.1", 0), _EchoHandler)


class _EchoHandler(socketserver.BaseRequestHandler):
    server: _SlowEchoServer

    def handle(self):
        self.request.settimeout(10)
        data = self.request.recv(65536)
        time.sleep(self.server.latency)
        self.request.sendall(data)


def _echo_once(address, payload):
    with socket.create_connection(address, timeout=10) as connection:
        connection.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = connection.recv(65536)
            if not chunk:
                raise ConnectionError("the echo server closed the connection early")
            received += chunk
    if received != payload:
        raise ConnectionError("the echo server sent back something else")


READS_PER_FILE = 256
PAGE = 4096


def _evict_from_page_cache(paths):
    """Make the next reads of these files go to the device (where the OS lets us say so)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _random_reads(path, seed):
    """READS_PER_FILE reads of one page at random offsets: each waits for the device, not the CPU."""
    rng = random.Random(seed)
    fd = os.open(path, os.O_RDONLY)
    try:
        pages = os.fstat(fd).st_size // PAGE
        for _ in range(READS_PER_FILE):
            os.pread(fd, PAGE, rng.randrange(pages) * PAGE)
    finally:
        os.close(fd)


def _time_tasks(task, tasks, threads, before=None):
    if before is not None:
        before()
    start = time.perf_counter()
    if threads == 1:
        for index in range(tasks):
            task(index)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(task, range(tasks)))
    return time.perf_counter() - start


def io_demo(threads=4, tasks=8, latency=0.05, file_mb=16, primes_n=2_000_000):
    """``tasks`` tasks of each kind, on 1 thread and on ``threads`` threads: seconds and speedup."""
    threads = integer("threads", threads, minimum=2, maximum=256)
    tasks = integer("tasks", tasks, minimum=1, maximum=10_000)
    latency = positive_seconds("latency", latency)
    file_mb = integer("file_mb", file_mb, minimum=1, maximum=1024)
    primes_n = integer("primes_n", primes_n, minimum=2, maximum=10**8)
    payload = os.urandom(1024)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gilkit-io-") as folder, _SlowEchoServer(latency) as server:
        paths = [os.path.join(folder, f"file{index}.bin") for index in range(tasks)]
        for path in paths:
            with open(path, "wb") as f:
                f.write(os.urandom(file_mb << 20))
                f.flush()
                os.fsync(f.fileno())  # clean pages can be evicted
        server_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        server_thread.start()
        try:
            evict = lambda: _evict_from_page_cache(paths)  # noqa: E731
            workloads = [
                ("sleep", f"time.sleep({latency})", lambda i: time.sleep(latency), None),
                ("read files", f"{READS_PER_FILE} random 4 KB reads, cold file", lambda i: _random_reads(paths[i], i),
                 evict),
                ("tcp echo", f"127.0.0.1, {1000 * latency:.0f} ms reply",
                 lambda i: _echo_once(server.server_address, payload), None),
                ("python kernel", f"count_primes({primes_n:,}), python",
                 lambda i: kernels.count_primes(primes_n, impl="python"), None),
            ]
            for name, what, task, before in workloads:
                task(0)  # warm-up: first imports and caches are not part of either timing
                one = _time_tasks(task, tasks, 1, before)
                many = _time_tasks(task, tasks, threads, before)
                rows.append([name, what, one, many, one / many])
        finally:
            server.shutdown()
            server_thread.join()
    speedup = {row[0]: row[4] for row in rows}
    python_note = ("it needs the GIL, so its threads take turns" if gil_enabled()
                   else "no GIL on this build, so it scales with the cores")
    finding = (f"{tasks} blocking I/O tasks finish {speedup['sleep']:.1f}x (sleep) and "
               f"{speedup['tcp echo']:.1f}x (TCP) sooner on {threads} threads, because a thread blocked in I/O "
               f"releases the GIL; random reads of cold files {speedup['read files']:.1f}x, as far as the device "
               f"overlaps requests; the pure-Python "
               f"kernel gets {speedup['python kernel']:.2f}x: {python_note}.")
    return DemoResult("io", ["workload", "each task", "1 thread s", f"{threads} threads s", "speedup"], rows, finding)


# --- 2. Locks: shared data written by threads needs one, held for the smallest scope --------------


def locks_demo(threads=4, updates=100_000, bins=16):
    """A shared histogram filled by ``threads`` threads, ``updates`` values each, four ways."""
    threads = integer("threads", threads, minimum=2, maximum=256)
    updates = integer("updates", updates, minimum=1, maximum=10**8)
    bins = integer("bins", bins, minimum=1, maximum=1 << 20)
    values = np.random.default_rng(0).random(threads * updates)
    lo, width = 0.0, 1.0 / bins
    expected = np.bincount(((values - lo) / width).astype(np.int64), minlength=bins)
    view = memoryview(values)
    slices = [(t * updates, (t + 1) * updates) for t in range(threads)]

    def bucket(x):
        return int((x - lo) / width)

    def unlocked(hist, lock, start, stop):
        for k in range(start, stop):
            # read, compute, write: another thread may write the same bin in between; its update is lost
            hist[bucket(view[k])] = hist[bucket(view[k])] + 1

    def lock_every_update(hist, lock, start, stop):
        for k in range(start, stop):
            with lock:
                hist[bucket(view[k])] += 1

    def local_then_merge(hist, lock, start, stop):
        local = [0] * bins
        for k in range(start, stop):
            local[bucket(view[k])] += 1
        with lock:
            for b in range(bins):
                hist[b] += local[b]

    def native_then_merge(hist, lock, start, stop):
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


# --- 3. Responsiveness: a main loop's frames while work runs ---------------------------------------

#: How long one chunk of the background work takes: longer than a 16 ms frame, so holding the GIL shows.
CHUNK_SECONDS = 0.03


def run_work(impl):
    """One unit of background work: four chunks of Mandelbrot rows, each about CHUNK_SECONDS long (the
    python twin gets a fixed, smaller problem of about the same duration)."""
    rows = 4 * kernels.MANDELBROT_ROWS_PER_CHUNK
    if impl == "python":
        return kernels.mandelbrot(60, rows // 2, max_iter=1000, impl=impl, **INSIDE)
    width = 1000
    return kernels.mandelbrot(width, rows, max_iter=chunk_max_iter(width, CHUNK_SECONDS), impl=impl, **INSIDE)


def frame_stats(lateness_s, frame_s):
    """p50/p99/max lateness in ms and how many frames were missed (a frame late by k periods misses k)."""
    ordered = sorted(lateness_s)
    missed = sum(int(late // frame_s) for late in lateness_s)
    return [1000 * statistics.median(ordered), 1000 * quantile(ordered, 0.99), 1000 * ordered[-1], missed, len(ordered)]


def _tick(frame_s, until, on_frame=None):
    """A main loop: wake every ``frame_s`` and record how late each wake-up is."""
    lateness = []
    deadline = time.perf_counter() + frame_s
    while deadline < until:
        time.sleep(max(0.0, deadline - time.perf_counter()))
        now = time.perf_counter()
        lateness.append(now - deadline)
        if on_frame is not None:
            on_frame(len(lateness))
        # A late frame is not made up for: the next one is due one period after it ran.
        deadline = now + frame_s if now - deadline > frame_s else deadline + frame_s
    return lateness


def responsive_demo(duration=1.0, frame_ms=16.0, impls=None):
    """Frame lateness of a 16 ms main loop while a worker thread runs each impl, and with the work on
    the main loop itself."""
    duration = positive_seconds("duration", duration)
    frame_s = positive_seconds("frame_ms", frame_ms) / 1000
    impls = list(impls or _implementations.available_impls())
    def metered(tick: Callable[[], list[float]]) -> list[Any]:
        """The frame stats, then the control heartbeat's lateness and the meter's verdict on the GIL."""
        with HeartbeatProbe() as probe:
            lateness = tick()
        found = verdict(probe.gil_median_ms, gil_p90_ms=probe.gil_p90_ms, control_median_ms=probe.control_median_ms)
        return [*frame_stats(lateness, frame_s), probe.control_median_ms, found.text]

    rows = [["idle", *metered(lambda: _tick(frame_s, time.perf_counter() + duration))]]
    for impl in impls:
        stop = threading.Event()

        def work_until_stopped(impl=impl, stop=stop):
            while not stop.is_set():
                run_work(impl)

        worker = threading.Thread(target=work_until_stopped, daemon=True)
        worker.start()
        try:
            rows.append([f"worker thread: {impl}", *metered(lambda: _tick(frame_s, time.perf_counter() + duration))])
        finally:
            stop.set()
            worker.join()
    on_main = _implementations.ACTIVE_IMPLEMENTATION
    rows.append([f"on the main loop: {on_main}", *metered(
        lambda: _tick(frame_s, time.perf_counter() + duration,
                      on_frame=lambda frame: run_work(on_main) if frame == 1 else None))])
    by_name = {row[0]: row for row in rows}
    native = by_name.get("worker thread: native")
    held = by_name.get("worker thread: native-gil")
    parts = []
    if native:
        parts.append(f"with native (GIL released) in a worker thread the loop missed {native[4]} frames "
                     f"(p99 {native[2]:.1f} ms late)")
    if held and gil_enabled():
        parts.append(f"with the same compiled loop holding the GIL it missed {held[4]} (worst {held[3]:.0f} ms)")
    elif held:
        parts.append(f"native-gil has no GIL to hold on this build: it missed {held[4]} (worst {held[3]:.1f} ms)")
    parts.append(f"running the work on the main loop itself froze it for {rows[-1][3]:.0f} ms")
    finding = "; ".join(parts) + ". Move long work off the main thread and out of the GIL."
    columns = ["work", "p50 ms", "p99 ms", "max ms", "missed frames", "frames", "CPU wait ms", "the GIL meter says"]
    return DemoResult("responsive", columns, rows, finding)
