"""Did a change make gilkit faster or slower? Time every kernel of the registry, one thread, in two builds
of gilkit side by side: each build in its own processes, the builds interleaved round by round, best and
median of all calls.

    python benchmarks/before_after.py BEFORE=/path/to/old/src AFTER=src [--rounds 5] [--calls 9]

Each PATH is a directory that holds a built ``gilkit`` package (a source tree after ``python setup.py
build_ext --inplace``, or a site-packages); it goes first on PYTHONPATH of that build's processes. The
problems are the registry's `gilkit bench` sizes (full, not --quick) for impl="native", and the
python twin's for impl="python". Say which compiler built each (``gilkit info`` names it): clang and GCC
compile the same kernel to different speeds.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

CALLS = r"""
import json, sys, time
import gilkit
from gilkit._registry import WORKLOADS
from gilkit._native import _cpu
calls = int(sys.argv[1])
times = {}
for impl in ("native", "python"):
    for name, workload in WORKLOADS.items():
        problem = workload.problem(workload.size(impl, quick=impl == "python"))
        problem.call(impl=impl)  # warm-up
        spans = []
        for _ in range(calls):
            start = time.perf_counter()
            problem.call(impl=impl)
            spans.append(time.perf_counter() - start)
        times[f"{name} {impl}"] = spans
compiler = getattr(_cpu, "COMPILER", "a compiler it does not name (older gilkit)")
print(json.dumps({"isa": gilkit.ISA_VARIANT, "compiler": compiler, "times": times}))
"""


def run_build(path: str, calls: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(path)}
    done = subprocess.run([sys.executable, "-c", CALLS, str(calls)], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("builds", nargs=2, metavar="NAME=PATH")
    parser.add_argument("--rounds", type=int, default=5, help="processes per build, interleaved")
    parser.add_argument("--calls", type=int, default=9, help="timed calls per problem in each process")
    args = parser.parse_args()
    builds = dict(build.split("=", 1) for build in args.builds)
    times: dict[str, dict[str, list[float]]] = {name: {} for name in builds}
    described = {}
    for _ in range(args.rounds):
        for name, path in builds.items():
            run = run_build(path, args.calls)
            described[name] = f"{run['isa']} variant, built by {run['compiler']}"
            for problem, spans in run["times"].items():
                times[name].setdefault(problem, []).extend(spans)
    (a, b) = builds
    print(f"{a}: {builds[a]} ({described[a]})")
    print(f"{b}: {builds[b]} ({described[b]})")
    print(f"one thread, {args.rounds} interleaved rounds of {args.calls} calls each; {b}'s speed relative to {a}'s\n")
    header = f"{'problem':<22} {a + ' best':>12} {b + ' best':>12} {'median':>10} {'median':>10}"
    print(f"{header}  {'best':>6} {'median':>6}")
    for problem in times[a]:
        ta, tb = times[a][problem], times[b][problem]
        best_a, best_b, med_a, med_b = min(ta), min(tb), statistics.median(ta), statistics.median(tb)
        print(f"{problem:<22} {best_a * 1e3:10.1f}ms {best_b * 1e3:10.1f}ms {med_a * 1e3:8.1f}ms {med_b * 1e3:8.1f}ms"
              f"  {best_a / best_b:5.2f}x {med_a / med_b:5.2f}x")


if __name__ == "__main__":
    main()
