"""`gilkit demo responsive --gui`: a Tk window with a spinner and buttons that start each kind of work.

The spinner advances on a 16 ms timer. Work started by a button runs in a worker thread (or, for the
last button, on the GUI thread itself), and every frame's lateness is recorded per kind of work, so a
person sees the spinner freeze or stay smooth, and ``--auto`` (used by the tests) reports the timings.
"""

import math
import os
import sys
import threading
import time
from collections.abc import Callable

from . import _implementations
from .demos import frame_stats, run_work

ROUNDS = 3  # units of work per button press


class NoDisplayError(RuntimeError):
    pass


def _open_tk():
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


class ResponsiveWindow:
    def __init__(self, frame_ms=16.0):
        self.tk, self.root = _open_tk()
        self.frame_s = frame_ms / 1000
        self.root.title("gilkit: is the GUI thread free?")
        self.canvas = self.tk.Canvas(self.root, width=220, height=220, background="white")
        self.canvas.pack()
        self.spoke = self.canvas.create_line(110, 110, 110, 20, width=6, fill="#1f77b4")
        self.status = self.tk.StringVar(value="press a button; the spinner should keep turning")
        self.tk.Label(self.root, textvariable=self.status, wraplength=420).pack(fill="x")
        self.buttons = {}
        for impl in _implementations.available_impls():
            self._add_button(f"worker thread: {impl}", lambda impl=impl: self.start_thread(impl))
        on_main = _implementations.ACTIVE_IMPLEMENTATION
        self._add_button(f"on the GUI thread: {on_main}", lambda: self.run_on_gui_thread(on_main))
        self.lateness = {}  # kind of work -> lateness of the frames while it ran
        self.current = None
        self.running: Callable[[], bool] | None = None  # while work runs: says whether it still does
        self.angle = 0.0
        self.deadline = time.perf_counter() + self.frame_s
        self.root.after(int(frame_ms), self._frame)

    def _add_button(self, label, command):
        button = self.tk.Button(self.root, text=label, command=command)
        button.pack(fill="x")
        self.buttons[label] = button

    def _frame(self):
        now = time.perf_counter()
        if self.current is not None:
            self.lateness[self.current].append(max(0.0, now - self.deadline))
        self.angle += 0.2
        self.canvas.coords(self.spoke, 110, 110, 110 + 90 * math.sin(self.angle), 110 - 90 * math.cos(self.angle))
        if self.running is not None and not self.running():
            self._finish()
        self.deadline = now + self.frame_s
        self.root.after(max(1, int(1000 * (self.deadline - time.perf_counter()))), self._frame)

    def busy(self):
        return self.current is not None

    def start_thread(self, impl):
        if self.busy():
            return
        self._begin(f"worker thread: {impl}")
        worker = threading.Thread(target=lambda: [run_work(impl) for _ in range(ROUNDS)], daemon=True)
        worker.start()
        self.running = worker.is_alive

    def run_on_gui_thread(self, impl):
        if self.busy():
            return
        self._begin(f"on the GUI thread: {impl}")
        self.deadline = time.perf_counter() + self.frame_s
        for _ in range(ROUNDS):
            run_work(impl)
        # the frame due during the work is recorded by the next _frame call, late by the whole run
        self.running = lambda: False

    def _begin(self, kind):
        self.current = kind
        self.lateness[kind] = []
        self.status.set(f"running {kind} ...")

    def _finish(self):
        stats = frame_stats(self.lateness[self.current] or [0.0], self.frame_s)
        self.status.set(f"{self.current}: p99 {stats[1]:.1f} ms late, worst {stats[2]:.1f} ms, "
                        f"{stats[3]} frames missed")
        self.current, self.running = None, None

    def stats(self):
        return {kind: frame_stats(values or [0.0], self.frame_s) for kind, values in self.lateness.items()}


def run_gui(auto=False, frame_ms=16.0):
    """Open the window; with ``auto`` press every button in turn, then close and return the stats."""
    window = ResponsiveWindow(frame_ms)
    if auto:
        pending = list(window.buttons.values())

        def press_next():
            if window.busy():
                window.root.after(50, press_next)
            elif pending:
                pending.pop(0).invoke()
                window.root.after(50, press_next)
            else:
                window.root.destroy()

        window.root.after(300, press_next)
    window.root.mainloop()
    return window.stats()
