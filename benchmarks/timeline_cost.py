"""What recording a GIL timeline costs the code it records: the same 2-thread runs with and without the
sampler, interleaved, best and median, at the default interval and at others.

    python benchmarks/timeline_cost.py > results/timeline-cost-gil.txt

The cost is the slowdown of the measured code (the sampler's thread takes CPU time from it, and wakes
every interval); the sampler's own CPU time per sample is printed beside it.
"""

import functools
import statistics
import sys
import time

import gilkit
from gilkit._build import build_label
from gilkit._text import aligned
from gilkit.gil_timeline import DEFAULT_INTERVAL, record_gil
from gilkit.probing import run_on_threads

ROUNDS = 15
CASES = {
    "native (2 threads, both CPUs busy)": functools.partial(gilkit.mandelbrot, 2400, 1600, impl="native"),
    "python twin (2 threads)": functools.partial(gilkit.mandelbrot, 240, 160, impl="python"),
}


def main():
    intervals = [DEFAULT_INTERVAL, 100e-6, 500e-6]
    print(f"gilkit {gilkit.__version__} on {build_label()}, {gilkit.usable_cpus()} usable CPUs; "
          f"{ROUNDS} rounds, interleaved")
    rows = [["code", "interval", "slowdown best", "slowdown median", "sampler CPU / sample", "sampler CPU share"]]
    for label, call in CASES.items():
        call()  # warm up
        for interval in intervals:
            plain, recorded, per_sample, share = [], [], [], []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                run_on_threads(call, 2, 1)
                plain.append(time.perf_counter() - start)
                with record_gil(interval) as recorder:
                    start = time.perf_counter()
                    run_on_threads(call, 2, 1)
                    recorded.append(time.perf_counter() - start)
                timeline = recorder.timeline
                per_sample.append(timeline.sampler_cpu_s / timeline.samples)
                share.append(timeline.sampler_cpu_s / timeline.duration_s)
            rows.append([label, f"{1e6 * interval:.0f} us", f"{min(recorded) / min(plain) - 1:+.1%}",
                         f"{statistics.median(recorded) / statistics.median(plain) - 1:+.1%}",
                         f"{1e6 * statistics.median(per_sample):.1f} us", f"{statistics.median(share):.1%}"])
            print(*aligned(rows)[-1:], file=sys.stderr)
    print("\n".join(aligned(rows)))


if __name__ == "__main__":
    main()
