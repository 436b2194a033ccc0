"""What processes cost: pool start-up, per-call overhead on a tiny problem, moving 100 MB, and what
gilkit.shared_array saves.

    python benchmarks/process_costs.py [--start-method spawn|forkserver|fork]

Prints a table (the README's "cost of processes"); each figure is the median of several runs.
"""

import argparse
import functools
import pickle
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context, shared_memory

import numpy as np

import gilkit
from gilkit import _executor
from gilkit._info import build_label

ARRAY_MB = 100


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pool_startup(method, workers):
    """Create a pool and get one answer back from every worker: the price of the first call."""

    def start_and_use():
        with ProcessPoolExecutor(workers, mp_context=get_context(method)) as pool:
            list(pool.map(abs, range(workers)))

    return median_time(start_and_use, 3)


def tiny_call_overheads(workers):
    """A two-chunk problem with next to no work, per mode: what a call costs beyond the work itself."""
    overheads = {}
    for impl, mode in [("native", "threads"), ("native", "openmp"), ("native", "processes"), ("python", "processes")]:
        if mode == "openmp" and not gilkit.OPENMP_ENABLED:
            continue
        call = functools.partial(gilkit.mandelbrot, 4, 9, max_iter=1, impl=impl, workers=workers, mode=mode)
        call()  # start the pool outside the timing
        overheads[(impl, mode, workers)] = median_time(call, 50)
    overheads[("native", "inline", 1)] = median_time(functools.partial(gilkit.mandelbrot, 4, 9, max_iter=1), 50)
    return overheads


def _sum_pickled(array):
    return float(array.sum())


def _sum_shared(name, shape):
    segment = shared_memory.SharedMemory(name=name)
    try:
        view = np.ndarray(shape, np.float64, buffer=segment.buf)
        total = float(view.sum())
        del view
        return total
    finally:
        segment.close()


def move_100mb(method):
    """Send a 100 MB array to a worker and sum it there: pickled vs placed in shared memory."""
    array = np.random.default_rng(0).random(ARRAY_MB * 2**20 // 8)
    with ProcessPoolExecutor(1, mp_context=get_context(method)) as pool:
        pool.submit(abs, 0).result()
        pickled = median_time(lambda: pool.submit(_sum_pickled, array).result(), 5)

        def via_shared_memory():
            segment = shared_memory.SharedMemory(create=True, size=array.nbytes)
            try:
                np.ndarray(array.shape, array.dtype, buffer=segment.buf)[...] = array
                pool.submit(_sum_shared, segment.name, array.shape).result()
            finally:
                segment.close()
                segment.unlink()

        shared = median_time(via_shared_memory, 5)
    local = median_time(lambda: float(array.sum()), 5)
    return pickled, shared, local, len(pickle.dumps(array, protocol=pickle.HIGHEST_PROTOCOL))


def shared_vs_copied(workers):
    """sum_squares of 2*10^7 values: inline and on threads, then on processes with an ordinary array
    (copied into shared memory on every call) and with a gilkit.shared_array (passed by name)."""
    plain = np.random.default_rng(0).random(20_000_000)
    shared = gilkit.shared_array(plain.shape)
    shared[...] = plain
    calls = {
        "inline (1 worker)": functools.partial(gilkit.sum_squares, plain),
        f"threads, {workers} workers": functools.partial(gilkit.sum_squares, plain, workers=workers),
        f"processes, {workers} workers, ordinary array": functools.partial(
            gilkit.sum_squares, plain, workers=workers, mode="processes"),
        f"processes, {workers} workers, shared_array": functools.partial(
            gilkit.sum_squares, shared, workers=workers, mode="processes"),
    }
    times = {label: [] for label in calls}
    for call in calls.values():
        call()  # pools up, pages touched
    for _ in range(7):  # interleaved, so drift hits every variant alike
        for label, call in calls.items():
            times[label].append(median_time(call, 1))
    return {label: statistics.median(values) for label, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start-method", default=_executor.default_start_method())
    args = parser.parse_args()
    gilkit.set_start_method(args.start_method)
    workers = min(2, gilkit.usable_cpus())
    print(f"process costs on {build_label()}, start method {args.start_method}, {workers} workers")
    print(f"\npool start-up (create {workers} processes, one task each): "
          f"{1000 * pool_startup(args.start_method, workers):.1f} ms")
    print("\nper-call time on a tiny problem (mandelbrot 4x9, max_iter=1: two chunks; pools already running):")
    for (impl, mode, count), seconds in tiny_call_overheads(workers).items():
        print(f"  {impl:<7} {mode:<9} workers={count}: {1e6 * seconds:9.1f} us")
    pickled, shared, local, nbytes = move_100mb(args.start_method)
    print(f"\nmove {ARRAY_MB} MB to a worker and sum it there ({nbytes / 2**20:.0f} MB pickled):")
    print(f"  pickled through the pool's pipe: {1000 * pickled:8.1f} ms")
    print(f"  copied into shared memory:       {1000 * shared:8.1f} ms")
    print(f"  (summing it in this process:     {1000 * local:8.1f} ms)")
    print("\nsum_squares of 2*10^7 values (160 MB), median of 7 interleaved runs:")
    for label, seconds in shared_vs_copied(workers).items():
        print(f"  {label:<45} {1000 * seconds:8.1f} ms")


if __name__ == "__main__":
    main()
