"""A callable run on N threads released together, timed: what the probe and the timeline both run."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def _thread_cpu_wait_s() -> float | None:
    """How long this thread has waited on a run queue for a CPU (Linux), or None."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class ThreadRun:
    """One timed run of ``count`` threads: its wall time, CPU per wall, and share of time spent waiting
    for a CPU (None where the platform does not say)."""

    wall_s: float
    cpu_per_wall: float
    cpu_wait_share: float | None
    threads: tuple[threading.Thread, ...]


def run_on_threads(call: Callable[[], object], count: int, calls: int, *, name: str = "gilkit-probe",
                   ready: Callable[[tuple[threading.Thread, ...]], object] | None = None) -> ThreadRun:
    """``count`` threads (named NAME-0, NAME-1, ...), released together, each making ``calls`` calls; the
    first error is raised once they have all ended. ``ready(threads)`` runs once they have started, before
    they are released."""
    start = threading.Barrier(count + 1)
    errors: list[BaseException] = []
    waited: list[float | None] = []

    def work() -> None:
        start.wait()
        before = _thread_cpu_wait_s()
        try:
            for _ in range(calls):
                call()
        except BaseException as exc:
            errors.append(exc)
        after = _thread_cpu_wait_s()
        waited.append(None if before is None or after is None else after - before)

    threads = [threading.Thread(target=work, name=f"{name}-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    if ready is not None:
        ready(tuple(threads))
    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    start.wait()
    for thread in threads:
        while thread.is_alive():  # join with a timeout: Ctrl-C reaches the main thread within a second
            thread.join(0.5)
    wall = time.perf_counter() - wall_before
    if errors:
        raise errors[0]
    known = [w for w in waited if w is not None]
    return ThreadRun(wall, (time.process_time() - cpu_before) / wall,
                sum(known) / (count * wall) if len(known) == count else None, tuple(threads))
