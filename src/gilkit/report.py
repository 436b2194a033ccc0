r"""A `gilkit bench` report: the model (a :class:`Report` of :class:`Cell`\ s, with the version of the JSON
it is written as), read and written, indexed, and put in words: the compact matrix, the table, the
findings, two runs side by side. The CLI, the plot and benchmarks/readme_tables.py share it.

The JSON is ``{"version": 3, "meta": {...info()...}, "results": [cell, ...]}``; a cell is one (kernel,
impl, mode, workers) with its times, derived speedups, the sampler's reading of the GIL and what other
programs took of the CPUs (:meth:`Cell.to_json`). Read by version, what an older file lacks is unknown:
version 2 has no speedup interval, GIL reading, load or flag (None); version 1 is version 2 without
"version" and without each cell's control heartbeat and GIL share (NaN).
"""

import json
import math
import numbers
import os
import statistics
import textwrap
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TextIO

from ._text import aligned, json_ready
from .verdict import BUSY_SHARE, INTERVAL_TARGET, Evidence, GilReading, GilWait, Verdict, verdict

#: The version of the JSON that `gilkit bench --json` writes.
FORMAT_VERSION = 3

CellKey = tuple[str, str, str, int]
NAN = float("nan")


class ReportError(ValueError):
    """A file that is not a readable gilkit bench report."""


@dataclass
class Cell:
    """One (kernel, impl, mode, workers): its problem, its timed calls (round by round, paired with the other
    worker counts' calls of the same round), its heartbeat, the sampler's reading of the GIL (on the most
    workers), and what is derived from the other cells (speedup over 1 worker with its interval,
    efficiency, throughput relative to the python twin)."""

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
    #: The GIL as the sampler read it while these workers ran (None: not read here, or not on this cell).
    gil_reading: GilReading | None = None
    #: The share of the usable CPUs that other programs took while the cell was timed (None: unknown).
    others_busy: float | None = None
    #: The median of the paired ratios 1-worker time / this cell's time, and its 95% interval.
    speedup: float | None = None
    speedup_low: float | None = None
    speedup_high: float | None = None
    speedup_best: float | None = None
    efficiency: float | None = None
    vs_python: float | None = None
    #: Why the speedup is not to be read as it stands (it broke a physical bound twice); None: it can be.
    flag: str | None = None

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

    @property
    def wide(self) -> bool:
        """Whether the speedup's interval stayed wider than +/- INTERVAL_TARGET of it."""
        if self.speedup is None or self.speedup_low is None or self.speedup_high is None:
            return False
        return (self.speedup_high - self.speedup_low) / 2 > INTERVAL_TARGET * self.speedup

    def to_json(self) -> dict[str, Any]:
        """The JSON record, with the derived repeats, median and throughput; an unknown figure (a heartbeat
        with no beats in a very short call) is null, never NaN."""
        data = asdict(self)
        data.update(repeats=self.repeats, median_s=self.median_s, throughput=self.throughput)
        return json_ready(data)

    @classmethod
    def from_json(cls, data: object, version: int) -> "Cell":
        """A cell as ``to_json`` wrote it in that version; ReportError names what is missing or wrong."""
        if not isinstance(data, dict):
            raise ReportError("is not an object")
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name not in data:
                if version < 2 and spec.name in _SINCE_VERSION_2 or version < 3 and spec.name in _SINCE_VERSION_3:
                    continue  # unknown then: the default, NaN or None
                raise ReportError(f"has no {spec.name!r}")
            values[spec.name] = _checked_field(spec.name, data[spec.name])
        cell = cls(**values)
        if cell.items <= 0 or not cell.times_s or min(cell.times_s) <= 0:
            raise ReportError("has no items, or a time that is not > 0")
        return cell


#: The fields a version-1 cell does not have, and those a version-2 cell does not have.
_SINCE_VERSION_2 = frozenset({"heartbeat_control_median_ms", "gil_median_ms"})
_SINCE_VERSION_3 = frozenset({"gil_reading", "others_busy", "speedup_low", "speedup_high", "flag"})
_TEXT = frozenset({"kernel", "impl", "mode", "unit"})
_WHOLE = frozenset({"workers", "size", "items"})
_OPTIONAL = frozenset({"speedup", "speedup_low", "speedup_high", "speedup_best", "efficiency", "vs_python",
                       "others_busy"})


def _checked_field(name: str, value: object) -> Any:
    def number(x: object) -> bool:
        return isinstance(x, numbers.Real) and not isinstance(x, bool)

    if name == "gil_reading":
        return None if value is None else _reading_from_json(value)
    if name in _TEXT:
        ok = isinstance(value, str)
    elif name == "flag":
        ok = value is None or isinstance(value, str)
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


def _reading_from_json(data: object) -> GilReading:
    """A GilReading as Cell.to_json wrote it (NaN written as null)."""
    def number(value: object) -> float:
        if value is None:
            return math.nan
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ReportError("has no valid 'gil_reading'")
        return float(value)

    if not (isinstance(data, dict) and isinstance(data.get("wait"), dict)
            and isinstance(data.get("held_shares"), list)):
        raise ReportError("has no valid 'gil_reading'")
    wait = data["wait"]
    try:
        return GilReading(number(data["free_share"]), tuple(number(share) for share in data["held_shares"]),
                          int(number(data["switches"])), number(data["seconds"]),
                          GilWait(number(wait["median_ms"]), number(wait["p90_ms"]), number(wait["cpu_median_ms"]),
                                  str(wait["meter"])))
    except (KeyError, ValueError):
        raise ReportError("has no valid 'gil_reading'") from None


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
        if version not in range(1, FORMAT_VERSION + 1) or isinstance(version, bool):
            raise ReportError(f"it is version {version!r}; this gilkit reads versions 1 to {FORMAT_VERSION}")
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
    header = ["kernel", "impl", "mode", "workers", "size", "median s", "spread s", "throughput/s", "speedup",
              "95% interval", "best", "efficiency", "vs python", "GIL (sampler)", "heartbeat ms", "others busy"]
    rows = [header]
    for c in report.cells:
        beat = None if math.isnan(c.heartbeat_median_ms) else c.heartbeat_median_ms
        interval = (None if c.speedup_low is None or c.speedup_high is None
                    else f"{c.speedup_low:.2f}-{c.speedup_high:.2f}")
        rows.append([
            c.kernel, c.impl, c.mode, str(c.workers), f"{c.size:,}", f"{c.median_s:.4f}",
            f"{min(c.times_s):.4f}-{max(c.times_s):.4f}", f"{c.throughput:.3g} {c.unit}",
            _fmt(c.speedup, ".2f") + ("!" if c.flag else ""), interval or "-", _fmt(c.speedup_best, ".2f"),
            _fmt(c.efficiency, ".0%"), _fmt(c.vs_python, ".3g"),
            "-" if c.gil_reading is None else c.gil_reading.brief(), _fmt(beat, ".2f", "no beat"),
            _fmt(c.others_busy, ".0%"),
        ])
    lines = aligned(rows)
    lines.append("size: pixels a side (box_blur), rows (mandelbrot, width 4/3 of it) or items; "
                 "the python twin runs a smaller problem, so compare impls by throughput.")
    lines.append("speedup: the median of 1-worker time / N-worker time over rounds that time both, with its 95% "
                 "interval; best: the fastest 1-worker time over the fastest N-worker time.")
    lines.append("GIL (sampler): read on the most workers; heartbeat: the second opinion, the Python heartbeat's "
                 "lateness less the control's; others busy: the CPUs' time other programs took.")
    lines += [f"!: {c.kernel} {c.impl} ({c.mode}) on {c.workers}: {c.flag}" for c in report.cells if c.flag]
    return "\n".join(lines)


def _gil_lateness_ms(cell: Cell) -> float:
    """The GIL's share of the heartbeat's median lateness; a version-1 report has only the raw lateness.
    NaN where the heartbeat was not measured."""
    return cell.heartbeat_median_ms if math.isnan(cell.gil_median_ms) else cell.gil_median_ms


def cell_verdict(cell: Cell, gil: bool = True) -> Verdict | None:
    """The verdict on the cell's GIL: the sampler's reading where there is one, else its heartbeat; None
    where neither was measured."""
    if cell.gil_reading is not None:
        return verdict(Evidence(cell.gil_reading.wait, cell.gil_reading, gil=gil))
    late = _gil_lateness_ms(cell)
    if math.isnan(late):
        return None
    return verdict(Evidence(GilWait(late, math.nan, cell.heartbeat_control_median_ms), gil=gil))


def reading_brief(cell: Cell) -> str:
    """What the GIL column rests on, in a few words: the sampler's reading ("GIL free 97%", "held 49%/48%"),
    or the heartbeat's lateness where the GIL was not read."""
    if cell.mode in OWN_GIL_WORKERS:
        return f"a GIL per {OWN_GIL_WORKERS[cell.mode]}"
    if cell.gil_reading is not None:
        return cell.gil_reading.brief()
    late = _gil_lateness_ms(cell)
    return "not measured" if math.isnan(late) else f"heartbeat {late:.1f} ms"


#: The modes whose workers each have a GIL of their own (out of the sampler's sight, or theirs alone), by
#: what a worker is.
OWN_GIL_WORKERS = {"processes": "process", "interpreters": "interpreter"}


def gil_verdict(cell: Cell, gil: bool = True) -> str:
    """The cell's verdict in words, with the reading it rests on."""
    if cell.mode in OWN_GIL_WORKERS:
        return f"each worker {OWN_GIL_WORKERS[cell.mode]} has a GIL of its own"
    found = cell_verdict(cell, gil)
    if found is None:
        return "GIL not measured"
    if found.finding == "no GIL":
        return "no GIL"
    return f"{found.text}: {reading_brief(cell)}"


#: ANSI colours of the compact matrix, by verdict: blue where threads may help, red where the GIL is held
#: (not green against red, which a colour-blind student cannot tell apart; the words say it too).
_COLOURS: dict[str, str] = {"releases": "34", "releases, does not scale": "34", "no GIL": "36",
                            "a GIL each": "36", "hands over": "31", "holds": "31"}


def _matrix_entry(cell: Cell | None, gil: bool) -> tuple[str, str, str | None]:
    """A cell of the compact matrix: its speedup and verdict, the reading under them, and the finding that
    colours both. "~" marks a speedup whose interval stayed wide, "!" one flagged as breaking a bound."""
    if cell is None:
        return "-", "", None
    mark = "!" if cell.flag else "~" if cell.wide else ""
    speedup = "-" if cell.speedup is None else f"{mark}{cell.speedup:.2f}x"
    if cell.mode in OWN_GIL_WORKERS:
        workers = OWN_GIL_WORKERS[cell.mode] if cell.workers == 1 else cell.mode  # the mode names the plural
        return f"{speedup} a GIL each", f"{cell.workers} {workers}", "a GIL each"
    found = cell_verdict(cell, gil)
    if found is None:
        return speedup, "", None
    return f"{speedup} {found.finding.split(',')[0]}", reading_brief(cell), found.finding


def format_matrix(report: Report, colour: bool = False) -> str:
    """What a class reads from the back of the room: kernel by impl, the speedup on the most workers over
    one and the verdict on the GIL beside it, with the reading it rests on underneath; then what to be
    careful of (wide intervals, flagged figures, a busy machine). It fits in 80 columns for three impls."""
    cells = report.index()
    impls = list(dict.fromkeys(c.impl for c in report.cells))
    modes = list(dict.fromkeys(c.mode for c in report.cells))
    most = max(c.workers for c in report.cells)
    rows = [["kernel" if len(modes) == 1 else "kernel (mode)", *impls]]
    findings: list[list[str | None]] = [[None] * (1 + len(impls))]
    shown: list[Cell] = []
    for kernel in report.kernels():
        for mode in modes:
            if not any((c.kernel, c.mode) == (kernel, mode) for c in report.cells):
                continue
            entries = [_matrix_entry(cells.get((kernel, impl, mode, most)), report.gil_enabled) for impl in impls]
            rows.append([kernel if len(modes) == 1 else f"{kernel} ({mode})", *(entry[0] for entry in entries)])
            rows.append(["", *(entry[1] for entry in entries)])
            findings += [[None, *(entry[2] for entry in entries)]] * 2
            shown += [cells[(kernel, impl, mode, most)] for impl in impls if (kernel, impl, mode, most) in cells]
    lines = aligned(rows)
    if colour:
        widths = [len(rule) for rule in lines[1].split("  ")]
        lines[2:] = ["  ".join(_painted(text, finding) + " " * (width - len(text))
                               for text, finding, width in zip(row, found, widths, strict=True)).rstrip()
                     for row, found in zip(rows[1:], findings[1:], strict=True)]
    mode_words = f"{modes[0]} mode" if len(modes) == 1 else "by mode"
    return "\n".join([
        f"Speedup on {most} workers over 1 ({mode_words}, median of paired runs), and the GIL:",
        "", *lines, "", *_cautions(shown),
        "releases: the GIL was free (GIL free: its share of the time): threads can help;",
        "hands over, holds: the GIL was held (held: each worker's share of the time), so",
        "threads take turns; no GIL: a free-threaded build.",
        *(["a GIL each: each worker is a process or a subinterpreter with a GIL of its own."]
          if any(mode in OWN_GIL_WORKERS for mode in modes) else []),
        "Every figure, with each speedup's 95% interval: gilkit bench --detail",
    ])


def _cautions(shown: list[Cell]) -> list[str]:
    """The lines under the matrix that qualify its figures: wide intervals, flags, a busy machine."""
    lines = []
    wide = [c for c in shown if c.wide and not c.flag]
    if wide:
        lines.append(f"~: the 95% interval stayed wider than +/-{INTERVAL_TARGET:.0%}: "
                     + "; ".join(f"{_named(c)} {c.speedup_low:.2f}-{c.speedup_high:.2f}x" for c in wide))
    lines += [f"!: {_named(c)}: {c.flag}" for c in shown if c.flag]
    busy = others_busy(shown)
    if busy is not None and busy > BUSY_SHARE:
        lines.append(f"Other programs took {busy:.0%} of the CPUs while this ran: the speedups are lower bounds "
                     "of what this machine can do.")
    return [*(wrapped for line in lines for wrapped in textwrap.wrap(line, 80, subsequent_indent="   ")), ""] \
        if lines else []


def _named(cell: Cell) -> str:
    """A matrix entry's name under the matrix: its kernel and impl, and its mode where it is not threads."""
    return f"{cell.kernel} {cell.impl}" + ("" if cell.mode == "threads" else f" ({cell.mode})")


def others_busy(cells: list[Cell]) -> float | None:
    """The share of the CPUs other programs took while these cells were timed, weighted by each cell's
    timed seconds: a short cell's reading is coarse (the kernel counts CPU time in ticks of 10 ms), and the
    whole run's is not. None where it was not read."""
    known = [(c.others_busy, sum(c.times_s)) for c in cells if c.others_busy is not None]
    seconds = sum(weight for _, weight in known)
    return sum(share * weight for share, weight in known) / seconds if seconds > 0 else None


def _painted(text: str, finding: str | None) -> str:
    return text if finding is None or not text else f"\x1b[{_COLOURS[finding]}m{text}\x1b[0m"


def wants_colour(stream: TextIO) -> bool:
    """Colour for a terminal, unless NO_COLOR is set (https://no-color.org) or TERM is dumb."""
    return (stream.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM", "") != "dumb")


def format_findings(report: Report) -> str:
    """The finding in words: each impl's speedup on the most workers, with its interval, and what the GIL did."""
    lines = [f"Findings on {report.build}:"]
    for kernel in report.kernels():
        most = max(c.workers for c in report.cells if c.kernel == kernel)
        parts = [
            f"{c.impl} ({c.mode}) {c.speedup:.2f}x{_interval(c)} on {most} workers "
            f"({gil_verdict(c, report.gil_enabled)})"
            for c in report.cells
            if c.kernel == kernel and c.workers == most > 1 and c.speedup is not None
        ]
        if parts:
            lines.append(f"  {kernel}: " + "; ".join(parts))
    return "\n".join(lines)


def _interval(cell: Cell) -> str:
    return "" if cell.speedup_low is None or cell.speedup_high is None else \
        f" [{cell.speedup_low:.2f}-{cell.speedup_high:.2f}]"


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
