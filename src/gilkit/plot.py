"""The pictures: the speedups of a bench run, one panel per idea and one bar per impl (and mode), for
`gilkit bench --plot`; the GIL timeline, one lane per thread, for `gilkit timeline -o`; and a flame graph of where
the GIL was held, from the folded stacks (`gilkit timeline --flame`).

Drawn on matplotlib's Figure with the Agg canvas, which touch no global state: no backend is chosen, and
pyplot's figures (a notebook's own) are left as they are."""

import io
import os
from typing import TYPE_CHECKING, BinaryIO

from . import report as reports
from ._timeline.model import COLOURS, DESCRIPTIONS, HATCHES, STATES, Recording

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


#: The speedup picture's panels, one idea each, and the (impl, mode) bars it compares; a panel none of whose
#: bars was measured is left out.
SPEEDUP_PANELS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("The same compiled loop on threads: with nogil (native) and without (native-gil)",
     (("native", "threads"), ("native-gil", "threads"))),
    ("Pure Python: threads, and executors with a GIL each (processes, subinterpreters)",
     (("python", "threads"), ("python", "processes"), ("python", "interpreters"))),
    ("Compiled code past the GIL: threads, processes (start-up and copies), OpenMP",
     (("native", "threads"), ("native", "processes"), ("native-gil", "processes"), ("native", "openmp"))),
)
#: A bar's colour says the impl, as the timeline's do (without the GIL sky blue, holding it vermillion);
#: its pattern says the executor, so no two bars are told apart by hue alone.
_IMPL_COLOURS = {"native": "#56B4E9", "native-gil": "#D55E00", "python": "#E69F00"}
_MODE_HATCHES = {"threads": None, "processes": "//", "openmp": "..", "interpreters": "xx"}


def plot_speedups(report: reports.Report) -> "Figure":
    """Draw the report's speedups on the most workers measured, one panel per idea (SPEEDUP_PANELS), each bar
    the median speedup of paired rounds with its 95% interval and its value printed, beside 1x and ideal."""
    kernels = report.kernels()
    workers = max(c.workers for c in report.cells)
    measured = {c.key[:3]: c for c in report.cells if c.workers == workers and c.speedup is not None}
    panels = [(title, [bar for bar in bars if any((k, *bar) in measured for k in kernels)])
              for title, bars in SPEEDUP_PANELS]
    panels = [(title, bars) for title, bars in panels if bars]
    fig = _figure((12, 0.8 + 2.9 * max(1, len(panels))))
    axes = fig.subplots(max(1, len(panels)), 1, squeeze=False, sharey=True)[:, 0]
    for ax, (title, bars) in zip(axes, panels, strict=False):
        width = 0.8 / len(bars)
        for index, (impl, mode) in enumerate(bars):
            shown = [(x, measured[(kernel, impl, mode)]) for x, kernel in enumerate(kernels)
                     if (kernel, impl, mode) in measured]
            speedups = [cell.speedup or 0.0 for _, cell in shown]
            interval = list(zip(*(_interval(cell) for _, cell in shown), strict=True))
            drawn = ax.bar([x - 0.4 + width * (index + 0.5) for x, _ in shown], speedups, width * 0.92,
                           yerr=interval, capsize=2, color=_IMPL_COLOURS[impl], hatch=_MODE_HATCHES[mode],
                           edgecolor="black", linewidth=0.5, label=impl if mode == "threads" else f"{impl} ({mode})")
            ax.bar_label(drawn, [f"{s:.2f}" for s in speedups], fontsize=9, padding=2)
        ax.axhline(1, color="black", linewidth=0.8)
        ax.axhline(workers, color="0.5", linestyle="--", linewidth=0.8)
        ax.annotate(f"ideal {workers}x", (1.0, workers), xycoords=("axes fraction", "data"), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=10, color="0.4")
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_xticks(range(len(kernels)), kernels, fontsize=10)
        ax.set_xlim(-0.5, len(kernels) - 0.5)
        ax.set_ylabel(f"speedup, {workers} workers", fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 0.7), fontsize=10, frameon=False)
        ax.grid(axis="y", alpha=0.3)
    highest = max((cell.speedup_high or cell.speedup or 0.0 for cell in measured.values()), default=0.0)
    axes[0].set_ylim(0, 1.15 * max(workers * 1.1, highest))  # room for the labels over ideal and every whisker
    fig.suptitle(f"gilkit bench: {report.build}, {report.meta['cpus_usable']} usable CPUs\n"
                 f"the speedup of {workers} workers over 1, the whisker its 95% interval", fontsize=11)
    fig.tight_layout()
    return fig


def save_speedups(report: reports.Report, path: str | os.PathLike[str] | BinaryIO) -> None:
    plot_speedups(report).savefig(path, format="png", dpi=110)


def _interval(cell: reports.Cell) -> tuple[float, float]:
    """How far the speedup's 95% interval reaches below and above it (none where it was not measured)."""
    speedup = cell.speedup or 0.0
    low = speedup if cell.speedup_low is None else cell.speedup_low
    high = speedup if cell.speedup_high is None else cell.speedup_high
    return max(0.0, speedup - low), max(0.0, high - speedup)


def _figure(size: tuple[float, float]) -> "Figure":
    """A figure of its own, drawn by the Agg canvas: no pyplot, no backend switched."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


#: The height of the strip under a timeline that holds its legend.
_LEGEND_INCHES = 0.35
#: Text in points: at least 14 px on the PNG (110 dpi, 11 inches: 1210 px wide); for a projector, larger.
_TEXT_POINTS = {False: 10, True: 14}


def plot_timeline(timeline: Recording, ax: "Axes | None" = None, *, presentation: bool = False) -> "Figure":
    """One lane per thread, time across, each stretch coloured by its state (the waits hatched too);
    gilkit's kernel chunks as black ticks under their thread's lane; each thread's share of the GIL at the
    right. Threads blocked from start to end (a Jupyter kernel has a dozen) are counted in the title, not
    drawn. ``presentation``: larger text and lanes, for a projector."""
    from matplotlib.patches import Patch

    text = _TEXT_POINTS[presentation]
    lanes = tuple(lane for lane in timeline.lanes if not lane.blocked_throughout) or timeline.lanes
    idle = len(timeline.lanes) - len(lanes)
    if ax is None:
        lane_inches = 0.8 if presentation else 0.55
        ax = _figure((12.8 if presentation else 11, 1.6 + _LEGEND_INCHES + lane_inches * max(1, len(lanes)))).subplots()
    fig = ax.get_figure(root=True)
    assert fig is not None
    for row, lane in enumerate(lanes):
        y = len(lanes) - 1 - row
        for state in STATES:
            spans = [(1000 * s.start_s, 1000 * s.seconds) for s in lane.stretches if s.state == state]
            if spans:
                ax.broken_barh(spans, (y - 0.35, 0.7), facecolors=COLOURS[state], edgecolors="white",
                               hatch=HATCHES[state], linewidth=0)
        chunks = [(1000 * c.start_s, 1000 * (c.stop_s - c.start_s)) for c in timeline.chunks if c.tid == lane.tid]
        if chunks:
            ax.broken_barh(chunks, (y - 0.47, 0.08), facecolors="black", edgecolors="white", linewidth=0.5)
        share = (f"holds the GIL {lane.share('holding'):.0%}\nwaits for it {lane.share('waiting_gil'):.0%}"
                 if timeline.gil_read else f"runs {lane.share('running'):.0%}")
        ax.annotate(share, (1.005, y), xycoords=("axes fraction", "data"), va="center", fontsize=text)
    ax.set_yticks(range(len(lanes)), [lane.name for lane in reversed(lanes)])
    ax.tick_params(labelsize=text)
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(0, 1000 * timeline.duration_s)
    ax.set_xlabel("ms since the recording began", fontsize=text)
    if timeline.gil_read:
        gil = f"{timeline.switches} GIL switches in {1000 * timeline.duration_s:.0f} ms"
    else:
        gil = f"no GIL read: {timeline.note}"
    if idle:
        gil += f"; {idle} thread{'s' if idle > 1 else ''} blocked throughout, not drawn"
    if timeline.unwatched_threads:
        gil += f"; {timeline.unwatched_threads} not watched when found (see the note)"
    if timeline.other_gils_note:
        gil += f"\n{timeline.other_gils_note}"
    ax.set_title(f"{timeline.label}\n{timeline.build}: {gil}", fontsize=text)
    shown = [state for state in STATES if any(s.state == state for lane in lanes for s in lane.stretches)]
    handles = [Patch(facecolor=COLOURS[state], edgecolor="white", hatch=HATCHES[state], label=DESCRIPTIONS[state])
               for state in shown]
    if timeline.chunks:
        handles.append(Patch(color="black", label="a gilkit kernel chunk"))
    fig.legend(handles=handles, loc="lower center", ncols=min(len(handles), 3), fontsize=text, frameon=False)
    legend_inches = _LEGEND_INCHES * (1 + (len(handles) > 3)) * text / 10
    fig.tight_layout(rect=(0, legend_inches / fig.get_figheight(), 1, 1))  # the legend's strip at the bottom
    return fig


#: The flame graph's colours, one per thread (Okabe and Ito's, told apart with any colour vision), and the
#: narrowest frame, as a share of the width, that is labelled.
_THREAD_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
_LABELLED_SHARE = 0.04


def plot_flame_graph(timeline: Recording) -> "Figure":
    """The GIL holder's folded stacks (gilkit._timeline.folded) as a flame graph: each thread a base, each
    function a box as wide as its share of the GIL-holding samples, callees above their callers, deeper
    frames lighter."""
    from ._timeline.folded import folded_stacks

    counts: dict[tuple[str, ...], int] = {}
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
    for line in folded_stacks(timeline):
        stack, count = line.rsplit(" ", 1)
        frames = tuple(stack.split(";"))
        for depth in range(1, len(frames) + 1):
            path = frames[:depth]
            if path not in counts:
                counts[path] = 0
                children[path] = []
                children[path[:-1]].append(path)
            counts[path] += int(count)
    total = max(1, sum(counts[path] for path in children[()]))
    depth = max(map(len, counts), default=1)
    fig = _figure((11, 1.2 + 0.3 * depth))
    ax = fig.subplots()
    boxes: list[tuple[tuple[str, ...], int, str]] = []  # (path, offset, colour)

    def place(path: tuple[str, ...], offset: int, colour: str) -> None:
        boxes.append((path, offset, colour))
        for child in sorted(children[path]):
            place(child, offset, colour)
            offset += counts[child]

    offset = 0
    for index, thread in enumerate(sorted(children[()])):
        place(thread, offset, _THREAD_COLOURS[index % len(_THREAD_COLOURS)])
        offset += counts[thread]
    for path, offset, colour in boxes:
        share = counts[path] / total
        ax.barh(len(path) - 1, share, left=offset / total, height=0.9, color=colour,
                alpha=max(0.3, 1.0 - 0.05 * (len(path) - 1)), edgecolor="white", linewidth=0.5)
        if share >= _LABELLED_SHARE:
            fits = max(1, int(share * 150))  # characters of 9-point text across a share of 11 inches
            label = path[-1] if len(path[-1]) <= fits else path[-1][:fits - 1] + "…"
            ax.text(offset / total + share / 2, len(path) - 1, label, ha="center", va="center", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, depth - 0.4)
    ax.set_yticks([])
    ax.set_xlabel("share of the samples in which a thread held the GIL")
    ax.set_title(f"Where the GIL was held: {timeline.label}\n{timeline.build}, {total} samples", fontsize="medium")
    fig.tight_layout()
    return fig


def save_flame_graph(timeline: Recording, path: str | os.PathLike[str] | BinaryIO) -> None:
    plot_flame_graph(timeline).savefig(path, format="png", dpi=110)


def save_timeline(timeline: Recording, path: str | os.PathLike[str] | BinaryIO, *, presentation: bool = False) -> None:
    plot_timeline(timeline, presentation=presentation).savefig(path, format="png", dpi=100 if presentation else 110,
                                                               bbox_inches="tight")


def timeline_png(timeline: Recording) -> bytes:
    """The picture as PNG bytes (what a notebook shows)."""
    png = io.BytesIO()
    save_timeline(timeline, png)
    return png.getvalue()


if __name__ == "__main__":
    # python -m gilkit.plot RESULTS.json OUT.png: draw a saved run (e.g. one from an interpreter without matplotlib).
    import sys

    save_speedups(reports.load(sys.argv[1]), sys.argv[2])
