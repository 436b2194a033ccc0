"""Markdown tables for the README from the saved runs: python benchmarks/readme_tables.py > results/readme-tables.md"""

from pathlib import Path

from gilkit.report import cell_verdict, reading_brief
from gilkit.report import load as load_report

RESULTS = Path(__file__).parent / "results"


def load(name):
    path = RESULTS / f"{name}.json"
    return load_report(str(path)) if path.exists() else None


def speedup_with_reading(cell, gil):
    """The speedup with its interval where the run has one, the verdict, and the reading it rests on."""
    if cell is None or cell.speedup is None:
        return "–"
    interval = "" if cell.speedup_low is None else f" ({cell.speedup_low:.2f}–{cell.speedup_high:.2f})"
    found = cell_verdict(cell, gil)
    verdict = "" if found is None else f", {found.finding}"
    return f"{cell.speedup:.2f}×{interval}{verdict}, {reading_brief(cell)}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def threads_table(report):
    c = report.index()
    return table(
        ["kernel", "native", "native-gil", "python"],
        [[k] + [speedup_with_reading(c.get((k, impl, "threads", 2)), report.gil_enabled)
                for impl in ("native", "native-gil", "python")]
         for k in report.kernels()],
    )


def processes_table(report):
    c = report.index()

    def speedup(key):
        cell = c.get(key)
        return "–" if cell is None or cell.speedup is None else f"{cell.speedup:.2f}×"

    return table(
        ["kernel", "python, processes", "native, processes", "native, openmp", "native, threads"],
        [[k, speedup((k, "python", "processes", 2)), speedup((k, "native", "processes", 2)),
          speedup((k, "native", "openmp", 2)), speedup((k, "native", "threads", 2))] for k in report.kernels()],
    )


def compare_table(a, b):
    ca, cb = a.index(), b.index()
    rows = []
    for k in a.kernels():
        for impl in ("native", "native-gil", "python"):
            a1, b1 = ca.get((k, impl, "threads", 1)), cb.get((k, impl, "threads", 1))
            a2, b2 = ca.get((k, impl, "threads", 2)), cb.get((k, impl, "threads", 2))
            if None in (a1, b1, a2, b2):
                continue
            rows.append([k, impl, f"{a1.median_s:.3f} s", f"{b1.median_s:.3f} s",
                         f"{b1.throughput / a1.throughput:.2f}", f"{a2.speedup:.2f}×", f"{b2.speedup:.2f}×"])
    header = ["kernel", "impl", "1 thread, GIL build", "1 thread, 3.13t", "3.13t/GIL speed", "2 workers, GIL build",
              "2 workers, 3.13t"]
    return table(header, rows)


def main():
    gil, free = load("gil"), load("freethreaded")
    if gil:
        print(f"## threads ({gil.build})\n\n{threads_table(gil)}\n")
        print(f"## processes and openmp ({gil.build})\n\n{processes_table(gil)}\n")
    if gil and free:
        print(f"## GIL build vs free-threaded build\n\n{compare_table(gil, free)}\n")


if __name__ == "__main__":
    main()
