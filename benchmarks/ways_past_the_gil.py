"""Lesson 13's table: the same pure-Python twin on threads, processes and isolated subinterpreters (and, run
under a free-threaded CPython, its threads), with what each way costs.

    python benchmarks/ways_past_the_gil.py > results/ways-past-the-gil-cpython3.13.txt

For each mode: the speedup of count_primes(N, impl="python") on 2 workers over 1, from rounds in which
1 and 2 workers are timed moments apart (the order alternating), the median of the rounds' ratios and the
best times' ratio; the first call's cost (a fresh process: its first call of a tiny problem, less its
second); and the cost of moving a 100 MB array in: none on threads (one address space), a copy into
shared memory for processes and interpreters (processes.staged), none for either from gilkit.shared_array.
With ``--picture PATH`` it also draws the GIL timeline of the interpreters' run (two GILs held at once).
"""

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

import gilkit
from gilkit._build import build_label, gil_enabled
from gilkit._executor import interpreters
from gilkit._executor.job import Chunks, Job
from gilkit._executor.processes import staged
from gilkit._text import aligned

N = 20_000_000
ROUNDS = 7
MEGABYTES = 100
FIRST_CALL = """
import time, gilkit
start = time.perf_counter(); gilkit.count_primes(1000, impl="python", workers=2, mode={mode!r})
first = time.perf_counter() - start
start = time.perf_counter(); gilkit.count_primes(1000, impl="python", workers=2, mode={mode!r})
print(first - (time.perf_counter() - start))
"""


def modes() -> list[str]:
    found = ["threads", "processes"]
    if interpreters.UNAVAILABLE_REASON is None:
        found.append("interpreters")
    return found


def timed(mode: str, workers: int) -> float:
    start = time.perf_counter()
    gilkit.count_primes(N, impl="python", workers=workers, mode=mode)
    return time.perf_counter() - start


def first_call_s(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", FIRST_CALL.format(mode=mode)], capture_output=True, text=True,
                         check=True).stdout
    return float(out)


def transfer_s(shared: bool) -> float:
    """Seconds to stage a 100 MB array for the workers, as processes and interpreters do (best of 3)."""
    count = MEGABYTES * 2**20 // 8
    array = gilkit.shared_array(count) if shared else np.ones(count)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with staged(Job("sumsq", "sum_squares_chunk", Chunks(0, count, count), arrays=(array,))):
            pass
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--picture", metavar="PNG")
    args = parser.parse_args()
    chosen = modes()
    for mode in chosen:  # warm: pools started, code imported
        gilkit.count_primes(10**5, impl="python", workers=2, mode=mode)
    times: dict[tuple[str, int], list[float]] = {(mode, workers): [] for mode in chosen for workers in (1, 2)}
    for round_ in range(ROUNDS):  # every mode in every round, so a drift of the machine hits them alike
        for mode in chosen:
            for workers in ((1, 2) if round_ % 2 == 0 else (2, 1)):
                times[(mode, workers)].append(timed(mode, workers))
    copy_s, shared_s = transfer_s(shared=False), transfer_s(shared=True)
    gil = "GIL" if gil_enabled() else "no GIL"
    print(f"count_primes({N:_}, impl='python') on {build_label()}, {gilkit.usable_cpus()} usable CPUs, {gil}; "
          f"{ROUNDS} rounds, 1 and 2 workers moments apart")
    rows = [["mode", "1 worker (median)", "2 workers (median)", "speedup (median of rounds)", "speedup (best)",
             "first call", f"{MEGABYTES} MB in"]]
    for mode in chosen:
        one, two = times[(mode, 1)], times[(mode, 2)]
        ratios = [a / b for a, b in zip(one, two, strict=True)]
        moved = "none (one address space)" if mode == "threads" else \
            f"{1000 * copy_s:.0f} ms copy (none from shared_array: {1000 * shared_s:.1f} ms)"
        rows.append([mode, f"{statistics.median(one):.3f} s", f"{statistics.median(two):.3f} s",
                     f"{statistics.median(ratios):.2f}x", f"{min(one) / min(two):.2f}x",
                     f"{1000 * first_call_s(mode):.0f} ms", moved])
    print("\n".join(aligned(rows)))
    if interpreters.UNAVAILABLE_REASON is not None:
        print(f"interpreters: {interpreters.UNAVAILABLE_REASON}")
    if args.picture and interpreters.UNAVAILABLE_REASON is None:
        with gilkit.record_gil(label="count_primes(impl='python', mode='interpreters', workers=2)") as recorder:
            gilkit.count_primes(N, impl="python", workers=2, mode="interpreters")
        recorder.timeline.save_png(args.picture)
        print(recorder.timeline.table().splitlines()[1])


if __name__ == "__main__":
    main()
