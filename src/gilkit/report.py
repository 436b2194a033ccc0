r"""A `gilkit bench` report: the model (a :class:`Report` of :class:`Cell`\ s, with the version of the JSON
it is written as), read and written, indexed, and put in words: the compact matrix, the table, the
findings, two runs side by side. The CLI, the plot and benchmarks/readme_tables.py share it.

The JSON is ``{"version": 2, "meta": {...info()...}, "results": [cell, ...]}``; a cell is one (kernel,
impl, mode, workers) with its times and derived speedups (:meth:`Cell.to_json`). Version 1 is the same
without "version" and without each cell's control heartbeat and GIL share (files written before either
existed): read by version, those are unknown (NaN).
"""

import json
import math
import numbers
import os
import statistics
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TextIO

from ._text import aligned
from .verdict import Evidence, GilWait, Verdict, verdict

#: The version of the JSON that `gilkit bench --json` writes.
FORMAT_VERSION = 2

CellKey = tuple[str, str, str, int]
NAN = float("nan")


class ReportError(ValueError):
    """A file that is not a readable gilkit bench report."""


@dataclass
class Cell:
    """One (kernel, impl, mode, workers): its problem, its timed calls, its heartbeat, and what is derived
    from the other cells (speedup over 1 worker, efficiency, throughput relative to the python twin)."""

    kernel: str
    impl: str
    mode: str
    workers: int
    size: int
    unit: str
    items: int
    times_s: list[float] = field(default_factory=list)
    heartbeat_median_ms: float = NAN
    heartbeat_max_ms: float = NAN
    #: The control heartbeat's median lateness (waiting for a CPU), and the GIL's share of the median.
    heartbeat_control_median_ms: float = NAN
    gil_median_ms: float = NAN
    speedup: float | None = None
    speedup_best: float | None = None
    efficiency: float | None = None
    vs_python: float | None = None

    @property
    def key(self) -> CellKey:
        return self.kernel, self.impl, self.mode, self.workers

    @property
    def repeats(self) -> int:
        return len(self.times_s)

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)

    @property
    def throughput(self) -> float:
        """Items per second at the median time."""
        return self.items / self.median_s

    def to_json(self) -> dict[str, Any]:
        """The JSON record, with the derived repeats, median and throughput; an unknown figure (a heartbeat
        with no beats in a very short call) is null, never NaN."""
        data = asdict(self)
        data.update(repeats=self.repeats, median_s=self.median_s, throughput=self.throughput)
        return {key: None if isinstance(value, float) and math.isnan(value) else value for key, value in data.items()}

    @classmethod
    def from_json(cls, data: object, version: int) -> "Cell":
        """A cell as ``to_json`` wrote it in that version; ReportError names what is missing or wrong."""
        if not isinstance(data, dict):
            raise ReportError("is not an object")
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name not in data:
                if version < 2 and spec.name in _SINCE_VERSION_2:
                    continue  # unknown then: NaN
                raise ReportError(f"has no {spec.name!r}")
            values[spec.name] = _checked_field(spec.name, data[spec.name])
        cell = cls(**values)
        if cell.items <= 0 or not cell.times_s or min(cell.times_s) <= 0:
            raise ReportError("has no items, or a time that is not > 0")
        return cell


#: The fields a version-1 cell does not have.
_SINCE_VERSION_2 = frozenset({"heartbeat_control_median_ms", "gil_median_ms"})
_TEXT = frozenset({"kernel", "impl", "mode", "unit"})
_WHOLE = frozenset({"workers", "size", "items"})
_OPTIONAL = frozenset({"speedup", "speedup_best", "efficiency", "vs_python"})


def _checked_field(name: str, value: object) -> Any:
    def number(x: object) -> bool:
        return isinstance(x, numbers.Real) and not isinstance(x, bool)

    if name in _TEXT:
        ok = isinstance(value, str)
    elif name in _WHOLE:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif name == "times_s":
        ok = isinstance(value, list) and all(number(x) for x in value)
    elif name in _OPTIONAL:
        ok = value is None or number(value)
    else:  # the heartbeat's figures: null when unknown
        ok = value is None or number(value)
        value = NAN if value is None else value
    if not ok:
        raise ReportError(f"has no valid {name!r}")
    return value


@dataclass
class Report:
    """One `gilkit bench` run: what it ran on (``gilkit info``'s facts and "quick") and its cells."""

    meta: dict[str, Any]
    cells: list[Cell]

    @property
    def build(self) -> str:
        return str(self.meta["build"])

    @property
    def gil_enabled(self) -> bool:
        return bool(self.meta.get("gil_enabled", True))

    def index(self) -> dict[CellKey, Cell]:
        """The cells by (kernel, impl, mode, workers)."""
        return {cell.key: cell for cell in self.cells}

    def kernels(self) -> list[str]:
        """The kernels measured, in the order they ran."""
        return list(dict.fromkeys(cell.kernel for cell in self.cells))

    def to_json(self) -> dict[str, Any]:
        return {"version": FORMAT_VERSION, "meta": self.meta, "results": [cell.to_json() for cell in self.cells]}

    @classmethod
    def from_json(cls, data: object) -> "Report":
        """A report in any version gilkit wrote; ReportError says what is wrong with it."""
        if not (isinstance(data, dict) and isinstance(data.get("meta"), dict) and "build" in data["meta"]
                and isinstance(data.get("results"), list)):
            raise ReportError("it has no meta.build and results")
        version = data.get("version", 1)
        if version not in (1, FORMAT_VERSION):
            raise ReportError(f"it is version {version!r}; this gilkit reads versions 1 and {FORMAT_VERSION}")
        cells = []
        for position, record in enumerate(data["results"]):
            try:
                cells.append(Cell.from_json(record, version))
            except ReportError as exc:
                raise ReportError(f"results[{position}] {exc}") from None
        return cls(data["meta"], cells)


def load(path: str) -> Report:
    """Read a report written by `gilkit bench --json`; ReportError says what is wrong with it."""
    try:
        with open(path) as f:
            data = json.load(f)
        return Report.from_json(data)
    except (OSError, ValueError) as exc:  # ReportError is a ValueError
        raise ReportError(f"cannot read a gilkit bench JSON from {path}: {exc}") from None


def _fmt(value: float | None, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def format_table(report: Report) -> str:
    """The cells as an aligned plain-text table."""
    header = ["kernel", "impl", "mode", "workers", "size", "median s", "spread s", "throughput/s",
              "speedup", "best", "efficiency", "vs python", "heartbeat ms"]
    rows = [header]
    for c in report.cells:
        beat = None if math.isnan(c.heartbeat_median_ms) else c.heartbeat_median_ms
        rows.append([
            c.kernel, c.impl, c.mode, str(c.workers), f"{c.size:,}", f"{c.median_s:.4f}",
            f"{min(c.times_s):.4f}-{max(c.times_s):.4f}", f"{c.throughput:.3g} {c.unit}", _fmt(c.speedup, ".2f"),
            _fmt(c.speedup_best, ".2f"), _fmt(c.efficiency, ".0%"), _fmt(c.vs_python, ".3g"),
            _fmt(beat, ".2f", "no beat"),
        ])
    lines = aligned(rows)
    lines.append("size: pixels a side (box_blur), rows (mandelbrot, width 4/3 of it) or items; "
                 "the python twin runs a smaller problem, so compare impls by throughput.")
    lines.append("speedup: median time of 1 worker / median time of N; best: the same with the fastest runs.")
    return "\n".join(lines)


def _gil_lateness_ms(cell: Cell) -> float:
    """The GIL's share of the heartbeat's median lateness; a version-1 report has only the raw lateness.
    NaN where the heartbeat was not measured."""
    return cell.heartbeat_median_ms if math.isnan(cell.gil_median_ms) else cell.gil_median_ms


def cell_verdict(cell: Cell, gil: bool = True) -> Verdict | None:
    """The verdict on the cell's heartbeat; None where the heartbeat was not measured."""
    late = _gil_lateness_ms(cell)
    if math.isnan(late):
        return None
    return verdict(Evidence(GilWait(late, math.nan, cell.heartbeat_control_median_ms), gil=gil))


def gil_verdict(cell: Cell, gil: bool = True) -> str:
    """The cell's verdict in words, with how late the heartbeat was for the GIL."""
    found = cell_verdict(cell, gil)
    if found is None:
        return "heartbeat not measured"
    if found.finding == "no GIL":
        return "no GIL"
    return f"{found.text}, heartbeat {_gil_lateness_ms(cell):.2f} ms late for the GIL"


#: ANSI colours of the compact matrix, by verdict: green where threads may help, red where the GIL is held.
_COLOURS: dict[str, str] = {"releases": "32", "releases, does not scale": "32", "no GIL": "36",
                            "hands over": "31", "holds": "31"}


def format_matrix(report: Report, colour: bool = False) -> str:
    """What a class reads from the back of the room: kernel by impl, the speedup on the most workers over
    one, and the verdict on the GIL beside it (its finding, without the figures). One row per kernel and
    mode; it fits in 80 columns for the three impls."""
    cells = report.index()
    impls = list(dict.fromkeys(c.impl for c in report.cells))
    modes = list(dict.fromkeys(c.mode for c in report.cells))
    most = max(c.workers for c in report.cells)
    rows = [["kernel" if len(modes) == 1 else "kernel (mode)", *impls]]
    finding_rows: list[list[str | None]] = [[None] * (1 + len(impls))]
    for kernel in report.kernels():
        for mode in modes:
            if not any((c.kernel, c.mode) == (kernel, mode) for c in report.cells):
                continue
            row = [kernel if len(modes) == 1 else f"{kernel} ({mode})"]
            findings: list[str | None] = [None]
            for impl in impls:
                cell = cells.get((kernel, impl, mode, most))
                found = None if cell is None else cell_verdict(cell, report.gil_enabled)
                speedup = "-" if cell is None or cell.speedup is None else f"{cell.speedup:.2f}x"
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
    lines = [f"Findings on {report.build}:"]
    for kernel in report.kernels():
        most = max(c.workers for c in report.cells if c.kernel == kernel)
        parts = [
            f"{c.impl} ({c.mode}) {c.speedup:.2f}x on {most} workers ({gil_verdict(c, report.gil_enabled)})"
            for c in report.cells
            if c.kernel == kernel and c.workers == most > 1 and c.speedup is not None
        ]
        if parts:
            lines.append(f"  {kernel}: " + "; ".join(parts))
    return "\n".join(lines)


def format_comparison(a: Report, b: Report) -> str:
    """Two runs side by side: per cell the throughput ratio B/A, and each run's speedup."""
    cells_b = b.index()
    header = ["kernel", "impl", "mode", "workers", "A median s", "B median s", "B/A throughput",
              "A speedup", "B speedup"]
    rows = [header]
    for ca in a.cells:
        cb = cells_b.get(ca.key)
        if cb is None:
            continue
        rows.append([
            ca.kernel, ca.impl, ca.mode, str(ca.workers), f"{ca.median_s:.4f}", f"{cb.median_s:.4f}",
            f"{cb.throughput / ca.throughput:.2f}", _fmt(ca.speedup, ".2f"), _fmt(cb.speedup, ".2f"),
        ])
    lines = [f"A: {a.build}", f"B: {b.build}", "", *aligned(rows)]
    if len(rows) == 1:
        lines.append("(no cell is in both runs)")
    return "\n".join(lines + ["", *_comparison_findings(a, cells_b)])


def _comparison_findings(a: Report, cells_b: dict[CellKey, Cell]) -> list[str]:
    """Per kernel and impl (threads mode): one thread's speed on B vs A, and the speedup on each."""
    lines = ["Findings (threads): one-thread throughput B/A, and the speedup on the most workers in both runs:"]
    for ca in a.cells:
        group = (ca.kernel, ca.impl, "threads")
        if ca.mode != "threads" or ca.workers != 1 or (*group, 1) not in cells_b:
            continue
        most = max((c for c in a.cells if c.key[:3] == group and c.key in cells_b), key=lambda c: c.workers)
        cb_single, cb_most = cells_b[(*group, 1)], cells_b[most.key]
        if most.workers > 1:
            lines.append(
                f"  {ca.kernel} {ca.impl}: one thread {cb_single.throughput / ca.throughput:.2f}x as fast on B; "
                f"{most.workers} workers scale {_fmt(most.speedup, '.2f')}x on A, {_fmt(cb_most.speedup, '.2f')}x on B"
            )
    return lines
