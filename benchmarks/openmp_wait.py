"""OpenMP's wait policy beside other work: what a tiny and a large mode="openmp" call cost.

    python benchmarks/openmp_wait.py

libgomp's idle threads spin for a while after each parallel region (OMP_WAIT_POLICY=active, or its
default) or sleep at once (passive). Each policy runs in its own process (libgomp reads the variable when
it loads), once on an idle machine and once beside a process that keeps one CPU busy.
"""

import json
import os
import subprocess
import sys

MEASURE = r"""
import json, statistics, time, gilkit
def times(call, repeats):
    call()
    out = []
    for _ in range(repeats):
        start = time.perf_counter(); call(); out.append(time.perf_counter() - start)
    return out
tiny = times(lambda: gilkit.mandelbrot(4, 9, max_iter=1, workers=2, mode="openmp"), 2000)
large = times(lambda: gilkit.mandelbrot(1200, 900, max_iter=256, workers=2, mode="openmp"), 15)
print(json.dumps({"tiny_median_us": 1e6 * statistics.median(tiny), "tiny_max_us": 1e6 * max(tiny),
                  "large_best_ms": 1e3 * min(large), "large_median_ms": 1e3 * statistics.median(large)}))
"""

POLICIES = {"active": "active", "passive (gilkit's default)": None}


def measure(policy):
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    if policy is not None:
        env["OMP_WAIT_POLICY"] = policy
    done = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout)


def main():
    print("mandelbrot on 2 OpenMP threads: tiny = 4x9, max_iter 1 (2000 calls); large = 1200x900, max_iter 256")
    header = (f"{'OMP_WAIT_POLICY':<26} {'other load':<12} {'tiny median us':>15} {'tiny max us':>12} "
              f"{'large median ms':>16}")
    print(header)
    print("-" * len(header))
    for busy in (False, True):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for label, policy in POLICIES.items():
                r = measure(policy)
                print(f"{label:<26} {'1 CPU busy' if busy else 'idle':<12} {r['tiny_median_us']:>15.1f} "
                      f"{r['tiny_max_us']:>12.0f} {r['large_median_ms']:>16.1f}")
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()


if __name__ == "__main__":
    main()
