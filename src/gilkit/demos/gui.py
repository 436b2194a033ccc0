"""`gilkit demo responsive --gui`: a Tk window with a spinner and buttons that start each kind of work.

The spinner advances on a 16 ms timer. Work started by a button runs in a worker thread (or, for the
last button, on the GUI thread itself), and every frame's lateness is recorded per kind of work, so a
person sees the spinner freeze or stay smooth, and ``--auto`` (used by the tests) reports the timings.
"""

import collections
import functools
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import _implementations
from .._implementations import Impl
from ._catalog import Shown
from ._options import NoDisplayError
from .responsive import frame_stats, responsive_demo, run_work

ROUNDS = 3  # units of work per button press


def _open_tk() -> tuple[Any, Any]:
    try:
        import tkinter
    except ImportError as exc:
        raise NoDisplayError(f"tkinter is not installed ({exc}); install your Python's Tk support") from None
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise NoDisplayError("no display: DISPLAY is not set (run it in a desktop session, or under xvfb-run)")
    try:
        return tkinter, tkinter.Tk()
    except tkinter.TclError as exc:
        raise NoDisplayError(f"cannot open the display {os.environ.get('DISPLAY')!r}: {exc}") from None


#: The strip chart: the last CHART_FRAMES frames' lateness, up to CHART_MS (later frames are clipped).
CHART_FRAMES = 200
CHART_MS = 64.0
CHART_WIDTH, CHART_HEIGHT = 420, 120


class ResponsiveWindow:
    """A spinner on a 16 ms timer, a strip chart of every frame's lateness with the 16 ms budget drawn
    across it, and a button per kind of work with that work's figures beside it after each run."""

    def __init__(self, frame_ms: float = 16.0) -> None:
        self.tk, self.root = _open_tk()
        self.frame_s = frame_ms / 1000
        self.root.title("gilkit: is the GUI thread free?")
        self.canvas = self.tk.Canvas(self.root, width=220, height=220, background="white")
        self.canvas.pack()
        self.spoke = self.canvas.create_line(110, 110, 110, 20, width=6, fill="#1f77b4")
        self.chart = self.tk.Canvas(self.root, width=CHART_WIDTH, height=CHART_HEIGHT, background="white")
        self.chart.pack()
        self.tk.Label(self.root, text=f"time \u2192 (the last {CHART_FRAMES} frames, newest at the right)",
                      foreground="#666666").pack()
        self.history: collections.deque[float] = collections.deque(maxlen=CHART_FRAMES)
        # The trace first, so that the labels drawn after it stay on top of it.
        self.trace = self.chart.create_line(0, CHART_HEIGHT - 1, 0, CHART_HEIGHT - 1, fill="#1f77b4", width=1.5)
        budget_y = self._chart_y(frame_ms)
        self.chart.create_line(0, budget_y, CHART_WIDTH, budget_y, fill="#d62728", dash=(4, 3))
        self.chart.create_text(4, budget_y - 2, text=f"{frame_ms:g} ms frame", anchor="sw", fill="#d62728")
        self.chart.create_text(4, 2, text=f"each frame's lateness, 0-{CHART_MS:g} ms", anchor="nw", fill="#666666")
        self.status = self.tk.StringVar(value="press a button; the spinner should keep turning")
        self.tk.Label(self.root, textvariable=self.status, wraplength=420).pack(fill="x")
        self.buttons: dict[str, Any] = {}
        self.figures: dict[str, Any] = {}  # kind of work -> the label beside its button
        for impl in _implementations.available_impls():
            self._add_button(f"worker thread: {impl}", functools.partial(self.start_thread, impl))
        on_main = _implementations.ACTIVE_IMPLEMENTATION
        self._add_button(f"on the GUI thread: {on_main}", functools.partial(self.run_on_gui_thread, on_main))
        self.lateness: dict[str, list[float]] = {}  # kind of work -> lateness of the frames while it ran
        self.current: str | None = None
        self.running: Callable[[], bool] | None = None  # while work runs: says whether it still does
        self.angle = 0.0
        self.deadline = time.perf_counter() + self.frame_s
        self.root.after(int(frame_ms), self._frame)

    def _add_button(self, label: str, command: Callable[[], None]) -> None:
        row = self.tk.Frame(self.root)
        row.pack(fill="x")
        button = self.tk.Button(row, text=label, command=command, width=28, anchor="w")
        button.pack(side="left")
        figures = self.tk.Label(row, text="not run yet", anchor="w", font=("TkFixedFont", 9))
        figures.pack(side="left", fill="x")
        self.buttons[label] = button
        self.figures[label] = figures

    @staticmethod
    def _chart_y(late_ms: float) -> float:
        return CHART_HEIGHT - 1 - (CHART_HEIGHT - 16) * min(late_ms, CHART_MS) / CHART_MS

    def _draw(self, late_s: float) -> None:
        """Turn the spinner and add this frame to the strip chart, in one Tcl script: each call into Tk
        must take the GIL back afterwards, and a frame must not wait for it more often than one call."""
        self.history.append(min(1000 * late_s, CHART_MS))
        step = CHART_WIDTH / CHART_FRAMES
        start = CHART_WIDTH - step * len(self.history)
        points = [f"{start + step * i:.1f} {self._chart_y(late_ms):.1f}" for i, late_ms in enumerate(self.history)]
        if len(points) == 1:
            points *= 2
        self.angle += 0.2
        tip = f"{110 + 90 * math.sin(self.angle):.1f} {110 - 90 * math.cos(self.angle):.1f}"
        self.root.tk.eval(f"{self.canvas} coords {self.spoke} 110 110 {tip}\n"
                          f"{self.chart} coords {self.trace} {' '.join(points)}")

    def _frame(self) -> None:
        now = time.perf_counter()
        late = max(0.0, now - self.deadline)
        if self.current is not None:
            self.lateness[self.current].append(late)
        self._draw(late)
        if self.running is not None and not self.running():
            self._finish()
        self.deadline = now + self.frame_s
        self.root.after(max(1, int(1000 * (self.deadline - time.perf_counter()))), self._frame)

    def busy(self) -> bool:
        return self.current is not None

    def start_thread(self, impl: Impl) -> None:
        if self.busy():
            return
        self._begin(f"worker thread: {impl}")
        worker = threading.Thread(target=lambda: [run_work(impl) for _ in range(ROUNDS)], daemon=True)
        worker.start()
        self.running = worker.is_alive

    def run_on_gui_thread(self, impl: Impl) -> None:
        if self.busy():
            return
        self._begin(f"on the GUI thread: {impl}")
        self.deadline = time.perf_counter() + self.frame_s
        for _ in range(ROUNDS):
            run_work(impl)
        # the frame due during the work is recorded by the next _frame call, late by the whole run
        self.running = lambda: False

    def _begin(self, kind: str) -> None:
        self.current = kind
        self.lateness[kind] = []
        self.status.set(f"running {kind} ...")

    def _finish(self) -> None:
        assert self.current is not None
        p50, p99, worst, missed, frames = frame_stats(self.lateness[self.current] or [0.0], self.frame_s)
        self.figures[self.current].configure(text=figures_text(p50, p99, worst, missed, frames))
        self.status.set(f"{self.current}: p99 {p99:.1f} ms late, worst {worst:.1f} ms, {missed} frames missed")
        self.current, self.running = None, None

    def stats(self) -> dict[str, list[Any]]:
        return {kind: frame_stats(values or [0.0], self.frame_s) for kind, values in self.lateness.items()}

    def shown(self) -> dict[str, str]:
        """What the window shows beside each button."""
        return {kind: label.cget("text") for kind, label in self.figures.items()}


def figures_text(p50: float, p99: float, worst: float, missed: int, frames: int) -> str:
    return f"p50 {p50:.1f} ms  p99 {p99:.1f}  max {worst:.1f}; {frames} frames drawn, {missed} missed"


@dataclass
class GuiResult:
    """The window's runs: each kind of work's frame statistics, and the figures the window showed."""

    stats: dict[str, list[Any]]
    shown: dict[str, str]

    COLUMNS: ClassVar[tuple[str, ...]] = ("p50 ms", "p99 ms", "max ms", "missed frames", "frames")

    def table(self) -> str:
        return "\n".join(f"{kind:<32} {figures_text(*values)}" for kind, values in self.stats.items())

    def as_dict(self) -> dict[str, Any]:
        return {kind: {**dict(zip(self.COLUMNS, values, strict=True)), "window shows": self.shown.get(kind)}
                for kind, values in self.stats.items()}


def gui_demo(auto: bool = False) -> GuiResult:
    """`gilkit demo responsive --gui`: the window, its runs, and what it showed (NoDisplayError without a
    display or Tk)."""
    return GuiResult(*run_gui(auto=auto))


def run_gui(auto: bool = False, frame_ms: float = 16.0, before_close: Callable[[ResponsiveWindow], None] | None = None
            ) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """Open the window; with ``auto`` press every button in turn, then close. The stats of each kind of
    work, and the figures the window showed beside each button. ``before_close(window)`` runs last
    (benchmarks/gui_screenshot.py takes its picture there)."""
    window = ResponsiveWindow(frame_ms)
    shown: dict[str, str] = {}

    def close() -> None:
        shown.update(window.shown())
        try:
            if before_close is not None:
                before_close(window)
        finally:
            window.root.destroy()

    window.root.protocol("WM_DELETE_WINDOW", close)
    if auto:
        pending = list(window.buttons.values())

        def press_next() -> None:
            if window.busy():
                window.root.after(50, press_next)
            elif pending:
                pending.pop(0).invoke()
                window.root.after(50, press_next)
            else:
                window.root.after(300, close)  # a few idle frames at the end of the chart

        window.root.after(300, press_next)
    window.root.mainloop()
    return window.stats(), shown


def responsive_or_gui(duration: float = 1.0, gui: bool = False, auto: bool = False) -> Shown:
    """`gilkit demo responsive`: the measured main loop, or with ``gui`` its Tk window (``auto``: press every
    button, then close)."""
    return gui_demo(auto=auto) if gui else responsive_demo(duration=duration)
