"""What recording a GIL timeline costs the code it records: the same 2-thread runs with and without the
sampler, in adjacent pairs, at the default interval with and without the holder's stacks, and at others.

    python benchmarks/timeline_cost.py > results/timeline-cost-gil.txt

This shared host drifts by several percent from one second to the next, more than the cost itself. So
the runs are short (about 0.1 s), come in adjacent pairs (with, without; the order alternates), and the
cost is the median of the pairs' ratios, with its interquartile range; best and median times are
printed too. The sampler's own CPU time per sample and per second of the run are printed beside it: on
code that keeps every CPU busy, the slowdown cannot be less than that CPU time spread over the CPUs.
"""

import functools
import statistics
import time

import gilkit
from gilkit._build import build_label
from gilkit._text import aligned
from gilkit._thread_runs import run_on_threads
from gilkit.gil_timeline import DEFAULT_INTERVAL, record_gil

PAIRS = 60
#: (interval, whether the holder's stacks are read): the default first, then without stacks, then slower.
SETTINGS = ((DEFAULT_INTERVAL, True), (DEFAULT_INTERVAL, False), (500e-6, True), (1000e-6, True))
CASES = {
    "native (2 threads, both CPUs busy)": functools.partial(gilkit.mandelbrot, 1600, 800, impl="native"),
    "python twin (2 threads)": functools.partial(gilkit.mandelbrot, 80, 40, impl="python"),
}


def timed(call, setting):
    """Seconds of 2 threads of ``call``, under a recording at ``setting`` ((interval, whether it reads the
    holder's stacks); None: no recording), and the timeline. Only the threads' run is timed, not the
    recording's start and end."""
    if setting is None:
        start = time.perf_counter()
        run_on_threads(call, 2, 1)
        return time.perf_counter() - start, None
    interval, stacks = setting
    with record_gil(interval, stacks=stacks) as recorder:
        start = time.perf_counter()
        run_on_threads(call, 2, 1)
        seconds = time.perf_counter() - start
    return seconds, recorder.timeline


def main():
    print(f"gilkit {gilkit.__version__} on {build_label()}, {gilkit.usable_cpus()} usable CPUs; {PAIRS} adjacent "
          "pairs of runs per row")
    rows = [["code", "interval", "stacks", "slowdown (median of pairs)", "IQR", "best", "median",
             "sampler CPU / sample", "sampler CPU / s"]]
    for label, call in CASES.items():
        call()  # warm up
        for setting in SETTINGS:
            plain, recorded, ratios, per_sample, share = [], [], [], [], []
            for pair in range(PAIRS):
                first, second = (None, setting) if pair % 2 == 0 else (setting, None)
                results = {which: timed(call, which) for which in (first, second)}
                (base, _), (with_sampler, timeline) = results[None], results[setting]
                plain.append(base)
                recorded.append(with_sampler)
                ratios.append(with_sampler / base)
                per_sample.append(timeline.sampler_cpu_s / timeline.samples)
                share.append(timeline.sampler_cpu_s / timeline.duration_s)
            q1, q2, q3 = statistics.quantiles(ratios, n=4)
            rows.append([label, f"{1e6 * setting[0]:.0f} us", "read" if setting[1] else "off", f"{q2 - 1:+.1%}",
                         f"{q1 - 1:+.1%} .. {q3 - 1:+.1%}",
                         f"{min(recorded) / min(plain) - 1:+.1%}",
                         f"{statistics.median(recorded) / statistics.median(plain) - 1:+.1%}",
                         f"{1e6 * statistics.median(per_sample):.1f} us", f"{statistics.median(share):.1%}"])
    print("\n".join(aligned(rows)))


if __name__ == "__main__":
    main()
