"""Amdahl's law with a serial fraction measured on this machine: lesson 1's "how much can more threads give?".

    python benchmarks/amdahl.py > results/amdahl-gil.txt

A job of two steps, as a real program has: a serial step in pure Python (a loop on one thread, which
holds the GIL, so no other thread can help it), then mandelbrot(impl="native") on W threads. On one
worker the serial step takes the share s of the job: the serial fraction. Amdahl's law predicts the job's
speedup on N workers as 1 / (s + (1 - s) / N) if the parallel step scaled perfectly, and
1 / (s + (1 - s) / p) with the parallel step's own measured speedup p; however many workers, never more
than 1 / s. Each serial share is measured in rounds that time the job on 1 and on N workers moments apart,
the order alternating, each step timed on its own: the medians of the rounds, with the 95% interval of
the job's speedup.
"""

import statistics
import time

import gilkit
from gilkit._build import build_label
from gilkit._stats import median_interval
from gilkit._text import aligned

WIDTH, HEIGHT = 2400, 1600
SERIAL_SHARES = (0.0, 0.1, 0.25, 0.5)
ROUNDS = 9


def serial_step(n: int) -> int:
    return sum(i * i for i in range(n))


def timed_job(n: int, workers: int) -> tuple[float, float]:
    """The serial step's seconds and the parallel step's, one after the other."""
    start = time.perf_counter()
    serial_step(n)
    middle = time.perf_counter()
    gilkit.mandelbrot(WIDTH, HEIGHT, impl="native", workers=workers)
    return middle - start, time.perf_counter() - middle


def serial_iterations(share: float) -> int:
    """How long a serial step makes it ``share`` of the job on one worker (calibrated on medians of 5)."""
    parallel_s = statistics.median(timed_job(0, 1)[1] for _ in range(5))
    probe = 1_000_000
    per_iteration = statistics.median(timed_job(probe, 1)[0] for _ in range(5)) / probe
    return round(share / (1 - share) * parallel_s / per_iteration)


def amdahl(serial: float, speedup_of_the_rest: float) -> float:
    return 1 / (serial + (1 - serial) / speedup_of_the_rest)


def main() -> None:
    workers = gilkit.usable_cpus()
    gilkit.mandelbrot(WIDTH, HEIGHT, impl="native", workers=workers)  # warm: the pool's threads started
    print(f"A serial pure-Python step, then mandelbrot({WIDTH}, {HEIGHT}, impl='native') on 1 or {workers} "
          f"threads; {build_label()}, {workers} usable CPUs; {ROUNDS} rounds, 1 and {workers} workers moments "
          f"apart; medians of the rounds")
    rows = [["serial share asked", "s measured (1 worker)", f"parallel step's speedup p on {workers}",
             f"Amdahl with p = {workers}", "Amdahl with p measured", "job's speedup measured (95% interval)",
             "bound 1/s"]]
    for share in SERIAL_SHARES:
        n = serial_iterations(share)
        one: list[tuple[float, float]] = []
        many: list[tuple[float, float]] = []
        for round_ in range(ROUNDS):
            for count in ((1, workers) if round_ % 2 == 0 else (workers, 1)):
                (one if count == 1 else many).append(timed_job(n, count))
        serial = statistics.median(s / (s + p) for s, p in one)
        rest = statistics.median(p1 / pn for (_, p1), (_, pn) in zip(one, many, strict=True))
        job = median_interval([sum(a) / sum(b) for a, b in zip(one, many, strict=True)])
        rows.append([f"{share:.0%}", f"{serial:.1%}", f"{rest:.2f}x", f"{amdahl(serial, workers):.2f}x",
                     f"{amdahl(serial, rest):.2f}x", f"{job.median:.2f}x ({job.low:.2f}-{job.high:.2f})",
                     f"{1 / serial:.1f}x" if serial > 0.001 else "none"])
    print("\n".join(aligned(rows)))


if __name__ == "__main__":
    main()
