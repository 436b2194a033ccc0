"""A `gilkit bench` report (the JSON it writes) read, indexed and put in words: the table, the findings,
two runs side by side. The CLI, the plot and benchmarks/readme_tables.py share it.

A report is ``{"meta": {...info()...}, "results": [cell, ...]}``; a cell is one (kernel, impl, mode,
workers) with its times and derived speedups (see gilkit.bench.Cell.as_dict).
"""

import json
import math
import os
from typing import Any, TextIO

from ._text import aligned
from .verdict import Evidence, GilWait, Verdict, verdict

Report = dict[str, Any]
Cell = dict[str, Any]
CellKey = tuple[str, str, str, int]

#: What a report's cell must hold to be compared, and the types it must have.
_CELL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kernel": str, "impl": str, "mode": str, "workers": int, "median_s": (int, float),
    "throughput": (int, float), "speedup": (int, float, type(None)),
}


class ReportError(ValueError):
    """A file that is not a readable gilkit bench report."""


def key(cell: Cell) -> CellKey:
    return cell["kernel"], cell["impl"], cell["mode"], cell["workers"]


def index(report: Report) -> dict[CellKey, Cell]:
    """The report's cells by (kernel, impl, mode, workers)."""
    return {key(cell): cell for cell in report["results"]}


def kernels(report: Report) -> list[str]:
    """The kernels the report measured, in its order."""
    return list(dict.fromkeys(cell["kernel"] for cell in report["results"]))


def load(path: str) -> Report:
    """Read a report written by `gilkit bench --json`; ReportError says what is wrong with it."""
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read a gilkit bench JSON from {path}: {exc}") from None
    if not (isinstance(report, dict) and isinstance(report.get("meta"), dict) and "build" in report["meta"]
            and isinstance(report.get("results"), list)):
        raise ReportError(f"cannot read a gilkit bench JSON from {path}: it has no meta.build and results")
    for position, cell in enumerate(report["results"]):
        problem = _bad_cell(cell)
        if problem:
            raise ReportError(f"cannot read a gilkit bench JSON from {path}: results[{position}] {problem}")
    return report


def _bad_cell(cell: object) -> str | None:
    if not isinstance(cell, dict):
        return "is not an object"
    for name, kind in _CELL_FIELDS.items():
        if not isinstance(cell.get(name), kind) or isinstance(cell.get(name), bool):
            return f"has no valid {name!r}"
    if not cell["throughput"] > 0 or not cell["median_s"] > 0:
        return "has a throughput or median time that is not > 0"
    return None


def _fmt(value: float | None, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def format_table(report: Report) -> str:
    """The cells as an aligned plain-text table."""
    header = ["kernel", "impl", "mode", "workers", "size", "median s", "spread s", "throughput/s",
              "speedup", "best", "efficiency", "vs python", "heartbeat ms"]
    rows = [header]
    for r in report["results"]:
        rows.append([
            r["kernel"], r["impl"], r["mode"], str(r["workers"]), f"{r['size']:,}",
            f"{r['median_s']:.4f}", f"{min(r['times_s']):.4f}-{max(r['times_s']):.4f}",
            f"{r['throughput']:.3g} {r['unit']}", _fmt(r["speedup"], ".2f"), _fmt(r["speedup_best"], ".2f"),
            _fmt(r["efficiency"], ".0%"),
            _fmt(r["vs_python"], ".3g"), _fmt(r["heartbeat_median_ms"], ".2f", "no beat"),
        ])
    lines = aligned(rows)
    lines.append("size: pixels a side (box_blur), rows (mandelbrot, width 4/3 of it) or items; "
                 "the python twin runs a smaller problem, so compare impls by throughput.")
    lines.append("speedup: median time of 1 worker / median time of N; best: the same with the fastest runs.")
    return "\n".join(lines)


def cell_verdict(cell: Cell, gil: bool = True) -> Verdict | None:
    """The verdict on the cell's heartbeat: the GIL's share of its lateness (reports from before the
    control heartbeat have only the raw lateness). None where the heartbeat was not measured."""
    late = cell["gil_median_ms"] if "gil_median_ms" in cell else cell.get("heartbeat_median_ms")
    if late is None:
        return None
    control = cell.get("heartbeat_control_median_ms")
    cpu = math.nan if control is None else control
    return verdict(Evidence(GilWait(late, math.nan, cpu), gil=gil))


def gil_verdict(cell: Cell, gil: bool = True) -> str:
    """The cell's verdict in words, with how late the heartbeat was for the GIL."""
    found = cell_verdict(cell, gil)
    if found is None:
        return "heartbeat not measured"
    if found.finding == "no GIL":
        return "no GIL"
    late = cell["gil_median_ms"] if "gil_median_ms" in cell else cell["heartbeat_median_ms"]
    return f"{found.text}, heartbeat {late:.2f} ms late for the GIL"


#: ANSI colours of the compact matrix, by verdict: green where threads may help, red where the GIL is held.
_COLOURS: dict[str, str] = {"releases": "32", "releases, does not scale": "32", "no GIL": "36",
                            "hands over": "31", "holds": "31"}


def format_matrix(report: Report, colour: bool = False) -> str:
    """What a class reads from the back of the room: kernel by impl, the speedup on the most workers over
    one, and the verdict on the GIL beside it (its finding, without the figures). One row per kernel and
    mode; it fits in 80 columns for the three impls."""
    results = report["results"]
    gil = bool(report["meta"].get("gil_enabled", True))
    cells = index(report)
    impls = list(dict.fromkeys(r["impl"] for r in results))
    modes = list(dict.fromkeys(r["mode"] for r in results))
    most = max(r["workers"] for r in results)
    rows = [["kernel" if len(modes) == 1 else "kernel (mode)", *impls]]
    finding_rows: list[list[str | None]] = [[None] * (1 + len(impls))]
    for kernel in kernels(report):
        for mode in modes:
            if not any((r["kernel"], r["mode"]) == (kernel, mode) for r in results):
                continue
            row = [kernel if len(modes) == 1 else f"{kernel} ({mode})"]
            findings: list[str | None] = [None]
            for impl in impls:
                cell = cells.get((kernel, impl, mode, most))
                found = None if cell is None else cell_verdict(cell, gil)
                speedup = "-" if cell is None or cell["speedup"] is None else f"{cell['speedup']:.2f}x"
                row.append(speedup if found is None else f"{speedup} {found.finding.split(',')[0]}")
                findings.append(None if found is None else found.finding)
            rows.append(row)
            finding_rows.append(findings)
    lines = aligned(rows)
    if colour:
        widths = [len(rule) for rule in lines[1].split("  ")]
        lines[2:] = ["  ".join(_painted(text, finding) + " " * (width - len(text))
                               for text, finding, width in zip(row, findings, widths, strict=True)).rstrip()
                     for row, findings in zip(rows[1:], finding_rows[1:], strict=True)]
    mode_words = f"{modes[0]} mode" if len(modes) == 1 else "by mode"
    return "\n".join([
        f"Speedup on {most} workers over 1 ({mode_words}, median times), and the GIL:", "", *lines, "",
        "releases: the GIL was free while it ran, so threads can help; hands over, holds:",
        "the GIL was held, so threads take turns; no GIL: a free-threaded build.",
        "Every figure: gilkit bench --detail",
    ])


def _painted(text: str, finding: str | None) -> str:
    return text if finding is None else f"\x1b[{_COLOURS[finding]}m{text}\x1b[0m"


def wants_colour(stream: TextIO) -> bool:
    """Colour for a terminal, unless NO_COLOR is set (https://no-color.org) or TERM is dumb."""
    return (stream.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM", "") != "dumb")


def format_findings(report: Report) -> str:
    """The finding in words: each impl's speedup on the most workers, and whether the heartbeat says the
    GIL was held."""
    lines = [f"Findings on {report['meta']['build']}:"]
    results = report["results"]
    gil = bool(report["meta"].get("gil_enabled", True))
    for kernel in kernels(report):
        most = max(r["workers"] for r in results if r["kernel"] == kernel)
        parts = [
            f"{r['impl']} ({r['mode']}) {r['speedup']:.2f}x on {most} workers ({gil_verdict(r, gil)})"
            for r in results
            if r["kernel"] == kernel and r["workers"] == most > 1 and r["speedup"] is not None
        ]
        if parts:
            lines.append(f"  {kernel}: " + "; ".join(parts))
    return "\n".join(lines)


def format_comparison(a: Report, b: Report) -> str:
    """Two runs side by side: per cell the throughput ratio B/A, and each run's speedup."""
    cells_b = index(b)
    header = ["kernel", "impl", "mode", "workers", "A median s", "B median s", "B/A throughput",
              "A speedup", "B speedup"]
    rows = [header]
    for ra in a["results"]:
        rb = cells_b.get(key(ra))
        if rb is None:
            continue
        rows.append([
            ra["kernel"], ra["impl"], ra["mode"], str(ra["workers"]), f"{ra['median_s']:.4f}", f"{rb['median_s']:.4f}",
            f"{rb['throughput'] / ra['throughput']:.2f}", _fmt(ra["speedup"], ".2f"), _fmt(rb["speedup"], ".2f"),
        ])
    lines = [f"A: {a['meta']['build']}", f"B: {b['meta']['build']}", "", *aligned(rows)]
    if len(rows) == 1:
        lines.append("(no cell is in both runs)")
    return "\n".join(lines + ["", *_comparison_findings(a, cells_b)])


def _comparison_findings(a: Report, cells_b: dict[CellKey, Cell]) -> list[str]:
    """Per kernel and impl (threads mode): one thread's speed on B vs A, and the speedup on each."""
    lines = ["Findings (threads): one-thread throughput B/A, and the speedup on the most workers in both runs:"]
    for ra in a["results"]:
        group = (ra["kernel"], ra["impl"], "threads")
        if ra["mode"] != "threads" or ra["workers"] != 1 or (*group, 1) not in cells_b:
            continue
        both = [r for r in a["results"] if key(r)[:3] == group and key(r) in cells_b]
        most = max(both, key=lambda r: r["workers"])
        rb_single, rb_most = cells_b[(*group, 1)], cells_b[key(most)]
        if most["workers"] > 1:
            lines.append(
                f"  {ra['kernel']} {ra['impl']}: one thread {rb_single['throughput'] / ra['throughput']:.2f}x as fast "
                f"on B; {most['workers']} workers scale {most['speedup']:.2f}x on A, {rb_most['speedup']:.2f}x on B"
            )
    return lines
