"""`gilkit probe`'s verdicts on code whose behaviour is known, idle or with every CPU kept busy.

    python benchmarks/probe_examples.py            > results/probe-examples-gil.txt
    python benchmarks/probe_examples.py --load     > results/probe-examples-gil-load.txt

--load starts one spinning process per usable CPU for the whole run and ends them after.
"""

import subprocess
import sys

import numpy as np

import gilkit
from gilkit._steady import INSIDE, chunk_max_iter
from gilkit._text import aligned

A = np.random.default_rng(0).random(4_000_000)
M = np.random.default_rng(1).random((600, 600))
CHUNK_ITER = chunk_max_iter(1000, 0.03)
CASES = {
    "np.sort(a), 4e6 floats": lambda: np.sort(A),
    "np.dot(m, m), 600x600": lambda: np.dot(M, M),
    "sum(i*i for i in range(10**6))": lambda: sum(i * i for i in range(10**6)),
    "gilkit native, one 30 ms chunk": lambda: gilkit.mandelbrot(1000, 8, max_iter=CHUNK_ITER, **INSIDE),
    "gilkit native-gil, one 30 ms chunk": lambda: gilkit.mandelbrot(1000, 8, max_iter=CHUNK_ITER, impl="native-gil",
                                                                    **INSIDE),
}


def main():
    load = "--load" in sys.argv
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(gilkit.usable_cpus() if load else 0)]
    try:
        rows = [["code", "one call", "2 threads", "CPU/wall", "GIL sampler (2 threads)", "heartbeat ms",
                 "GIL share ms (p50/p90)", "control ms", "verdict"]]
        for label, fn in CASES.items():
            report = gilkit.probe(fn, workers=(1, 2), rounds=5, label=label)
            two = report.scaling[-1]
            rows.append([label, f"{report.call_median_s * 1e3:.1f} ms", f"{two.speedup_best:.2f}x",
                         f"{two.cpu_per_wall:.2f}",
                         "not read" if report.gil_reading is None else report.gil_reading.brief(),
                         f"{report.heartbeat_median_ms:.2f}",
                         f"{report.gil_median_ms:.2f} / {report.gil_p90_ms:.2f}",
                         f"{report.control_median_ms:.2f}", report.verdict.text])
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    state = f"{len(spinners)} spinning processes on {gilkit.usable_cpus()} CPUs" if load else "idle"
    print(f"gilkit probe on {gilkit._info.build_label()}, {state}; speedup from the best times\n")
    print("\n".join(aligned(rows)))


if __name__ == "__main__":
    main()
