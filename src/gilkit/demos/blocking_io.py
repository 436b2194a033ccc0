"""`gilkit demo io`: threads help blocking I/O even with the GIL; not pure-Python work."""

import os
import random
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .. import kernels
from .._build import gil_enabled
from .._validate import integer, positive_seconds
from ._catalog import IO_OPTIONS
from ._echo import echo_once, running_echo_server
from ._result import DemoResult

READS_PER_FILE = 256
PAGE = 4096


def _evict_from_page_cache(paths: list[str]) -> None:
    """Make the next reads of these files go to the device (where the OS lets us say so)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _random_reads(path: str, seed: int) -> None:
    """READS_PER_FILE reads of one page at random offsets: each waits for the device, not the CPU."""
    rng = random.Random(seed)
    fd = os.open(path, os.O_RDONLY)
    try:
        pages = os.fstat(fd).st_size // PAGE
        for _ in range(READS_PER_FILE):
            os.pread(fd, PAGE, rng.randrange(pages) * PAGE)
    finally:
        os.close(fd)


def _time_tasks(task: Callable[[int], object], tasks: int, threads: int,
                before: Callable[[], None] | None = None) -> tuple[float, float]:
    """Seconds of wall time for the tasks on ``threads`` threads, and the process's CPU time over it: a
    CPU/wall near 1 on several threads means they took turns, whatever else the CPUs were doing."""
    if before is not None:
        before()
    start, cpu = time.perf_counter(), time.process_time()
    if threads == 1:
        for index in range(tasks):
            task(index)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(task, range(tasks)))
    return time.perf_counter() - start, time.process_time() - cpu


THREADS, TASKS = IO_OPTIONS


def io_demo(threads: int = 4, tasks: int = 8, latency: float = 0.05, file_mb: int = 16,
            primes_n: int = 2_000_000) -> DemoResult:
    """``tasks`` tasks of each kind, on 1 thread and on ``threads`` threads: seconds and speedup."""
    threads, tasks = THREADS.whole(threads), TASKS.whole(tasks)
    latency = positive_seconds("latency", latency)
    file_mb = integer("file_mb", file_mb, minimum=1, maximum=1024)
    primes_n = integer("primes_n", primes_n, minimum=2, maximum=10**8)
    payload = os.urandom(1024)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gilkit-io-") as folder, running_echo_server(latency) as server:
        paths = [os.path.join(folder, f"file{index}.bin") for index in range(tasks)]
        for path in paths:
            with open(path, "wb") as f:
                f.write(os.urandom(file_mb << 20))
                f.flush()
                os.fsync(f.fileno())  # clean pages can be evicted

        def evict() -> None:
            _evict_from_page_cache(paths)

        workloads = [
            ("sleep", f"time.sleep({latency})", lambda i: time.sleep(latency), None),
            ("read files", f"{READS_PER_FILE} random 4 KB reads, cold file", lambda i: _random_reads(paths[i], i),
             evict),
            ("tcp echo", f"127.0.0.1, {1000 * latency:.0f} ms reply",
             lambda i: echo_once(server.address, payload), None),
            ("python kernel", f"count_primes({primes_n:,}), python",
             lambda i: kernels.count_primes(primes_n, impl="python"), None),
        ]
        for name, what, task, before in workloads:
            task(0)  # warm-up: first imports and caches are not part of either timing
            one, _ = _time_tasks(task, tasks, 1, before)
            many, cpu = _time_tasks(task, tasks, threads, before)
            rows.append([name, what, one, many, one / many, cpu / many])
    speedup = {row[0]: row[4] for row in rows}
    python_note = ("it needs the GIL, so its threads take turns" if gil_enabled()
                   else "no GIL on this build, so it scales with the cores")
    finding = (f"{tasks} blocking I/O tasks finish {speedup['sleep']:.1f}x (sleep) and "
               f"{speedup['tcp echo']:.1f}x (TCP) sooner on {threads} threads, because a thread blocked in I/O "
               f"releases the GIL; random reads of cold files {speedup['read files']:.1f}x, as far as the device "
               f"overlaps requests; the pure-Python "
               f"kernel gets {speedup['python kernel']:.2f}x: {python_note}.")
    return DemoResult("io", ["workload", "each task", "1 thread s", f"{threads} threads s", "speedup",
                             f"CPU/wall, {threads} threads"], rows, finding)
