"""Does the first screen say the same thing every run? `gilkit bench --quick` and `gilkit probe` run again
and again, on an idle machine or beside a process that spins on one CPU, and what changed between runs.

    python benchmarks/verdict_stability.py bench [--runs 10] [--beside-spinner]
    python benchmarks/verdict_stability.py probe [--runs 10] [--beside-spinner]
    python benchmarks/verdict_stability.py bench --summarize DIR/run-*.json   # runs saved with --keep DIR

bench: per cell (on the most workers), the speedup's min-max over the runs, the verdicts seen (with how
often), how many runs marked the cell wide (~) or flagged it (!), and how many first screens carried the
busy note; then the checks of issue 28 (the same verdict in every run; no speedup above 2.05x on 2
workers; native mandelbrot, count_primes and estimate_pi at least 1.6x; native-gil and python at most
1.15x). probe: the verdict of each statement in every run.
"""

import argparse
import collections
import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gilkit import report

PROBES = {
    "time.sleep(0.05)": "import time",
    "sum(i * i for i in range(200_000))": "",
    "hashlib.sha256(data)": "import hashlib; data = bytes(50_000_000)",
    "json.dumps(d)": "import json; d = {str(i): [i, str(i), i / 3] for i in range(200_000)}",
}


@contextlib.contextmanager
def spinner(wanted: bool) -> Iterator[None]:
    """A process that keeps one CPU busy while the block runs, if wanted."""
    if not wanted:
        yield
        return
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spin.kill()
        spin.wait()


def gilkit(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "gilkit", *args], check=True, capture_output=True,
                          text=True).stdout


def span(shares: list[float]) -> str:
    """The range of some shares, "89-95%"; "-" for none."""
    return f"{min(shares):.0%}-{max(shares):.0%}" if shares else "-"


def bench(runs: int, keep: str | None) -> None:
    """Run gilkit bench --quick ``runs`` times, printing each first screen, then summarize the runs."""
    with tempfile.TemporaryDirectory() as scratch:
        paths = []
        for run in range(1, runs + 1):
            paths.append(str(Path(keep or scratch) / f"run-{run}.json"))
            screen = gilkit("bench", "--quick", "--save", paths[-1])
            print(f"--- run {run}", flush=True)
            print(screen.split("\nwrote")[0], flush=True)
        summarize(paths)


def summarize(paths: list[str]) -> None:
    """Per cell on the most workers, over the saved runs: what changed, and the checks of issue 28."""
    speedups: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    findings: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(collections.Counter)
    wide: collections.Counter[tuple[str, str]] = collections.Counter()
    flagged: collections.Counter[tuple[str, str]] = collections.Counter()
    busy: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    free: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    held: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    busy_notes, workers = 0, 0
    for path in paths:
        measured = report.load(path)
        busy_notes += "Other programs took" in report.format_matrix(measured)  # what the first screen said
        workers = max(cell.workers for cell in measured.cells)
        for cell in measured.cells:
            if cell.workers != workers:
                continue
            key = (cell.kernel, cell.impl)
            found = report.cell_verdict(cell, measured.gil_enabled)
            speedups[key].append(cell.speedup or float("nan"))
            findings[key][found.finding if found else "-"] += 1
            wide[key] += cell.wide
            flagged[key] += cell.flag is not None
            busy[key] += [] if cell.others_busy is None else [cell.others_busy]
            if cell.gil_reading is not None:
                free[key].append(cell.gil_reading.free_share)
                held[key] += cell.gil_reading.held_shares
    runs = len(paths)
    print(f"=== {runs} runs of gilkit bench --quick: per cell on {workers} workers")
    rows = [["kernel", "impl", "speedup min-max", "verdicts", "GIL free", "each worker held", "wide", "flagged",
             "others busy"]]
    for key, values in speedups.items():
        verdicts = ", ".join(f"{finding} {count}" for finding, count in findings[key].items())
        rows.append([*key, f"{min(values):.2f}-{max(values):.2f}x", verdicts, span(free[key]), span(held[key]),
                     str(wide[key]), str(flagged[key]), span(busy[key])])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip())
    print(f"busy note on the first screen: {busy_notes} of {runs} runs")
    checks = {
        "every cell's verdict the same in every run": all(len(seen) == 1 for seen in findings.values()),
        f"no speedup above {workers + 0.05:.2f}x": all(max(v) <= workers + 0.05 for v in speedups.values()),
        "native mandelbrot, count_primes, estimate_pi >= 1.6x": all(
            min(speedups[(kernel, "native")]) >= 1.6 for kernel in ("mandelbrot", "count_primes", "estimate_pi")),
        "native-gil and python <= 1.15x": all(
            max(values) <= 1.15 for (kernel, impl), values in speedups.items() if impl != "native"),
    }
    for check, met in checks.items():
        print(f"{'met' if met else 'NOT MET'}: {check}")


def probe(runs: int) -> None:
    seen: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for run in range(1, runs + 1):
        for statement, setup in PROBES.items():
            found = json.loads(gilkit("probe", statement, "--setup", setup, "--json"))
            seen[statement][found["verdict"]["finding"]] += 1
            print(f"run {run}: {statement}: {found['verdict']['text']} ({found['verdict']['evidence']})", flush=True)
    print(f"=== {runs} runs of gilkit probe")
    for statement, counted in seen.items():
        print(f"{statement}: " + ", ".join(f"{finding} {count} of {runs}" for finding, count in counted.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["bench", "probe"])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--beside-spinner", action="store_true", help="keep one CPU busy with another process")
    parser.add_argument("--keep", metavar="DIR", help="bench: keep each run's JSON in DIR (run-N.json)")
    parser.add_argument("--summarize", nargs="+", metavar="JSON", help="bench: summarize saved runs instead")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    print(f"{gilkit('info').splitlines()[0]}; beside a spinning process: {args.beside_spinner}", flush=True)
    with spinner(args.beside_spinner):
        if args.what == "bench":
            bench(args.runs, args.keep)
        else:
            probe(args.runs)


if __name__ == "__main__":
    main()
