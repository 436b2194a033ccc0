"""`gilkit demo responsive`: a main loop stays on time only when long work leaves it, and the GIL."""

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import _implementations, kernels
from .._build import gil_enabled
from .._durations import Durations
from .._implementations import Impl
from .._steady import INSIDE, chunk_max_iter
from .._validate import positive_seconds
from ..gil_timeline import gil_unreadable_reason, record_gil
from ..heartbeat import HeartbeatProbe
from ..verdict import Evidence, verdict
from ._catalog import RESPONSIVE_OPTIONS
from ._result import DemoResult

#: How long one chunk of the background work takes: longer than a 16 ms frame, so holding the GIL shows.
CHUNK_SECONDS = 0.03


def run_work(impl: Impl) -> object:
    """One unit of background work: four chunks of Mandelbrot rows, each about CHUNK_SECONDS long (the
    python twin gets a fixed, smaller problem of about the same duration)."""
    rows = 4 * kernels.MANDELBROT_ROWS_PER_CHUNK
    if impl == "python":
        return kernels.mandelbrot(60, rows // 2, max_iter=1000, impl=impl, **INSIDE)
    width = 1000
    return kernels.mandelbrot(width, rows, max_iter=chunk_max_iter(width, CHUNK_SECONDS), impl=impl, **INSIDE)


def frame_stats(lateness_s: list[float], frame_s: float) -> list[Any]:
    """p50/p99/max lateness in ms and how many frames were missed (a frame late by k periods misses k)."""
    late = Durations.of(lateness_s)
    missed = sum(int(seconds // frame_s) for seconds in lateness_s)
    return [late.median_ms, late.p99_ms, late.max_ms, missed, len(late)]


def _tick(frame_s: float, until: float, on_frame: Callable[[int], object] | None = None) -> list[float]:
    """A main loop: wake every ``frame_s`` and record how late each wake-up is."""
    lateness = []
    deadline = time.perf_counter() + frame_s
    while deadline < until:
        time.sleep(max(0.0, deadline - time.perf_counter()))
        now = time.perf_counter()
        lateness.append(now - deadline)
        if on_frame is not None:
            on_frame(len(lateness))
        # A late frame is not made up for: the next one is due one period after it ran.
        deadline = now + frame_s if now - deadline > frame_s else deadline + frame_s
    return lateness


DURATION, GUI, AUTO = RESPONSIVE_OPTIONS


def responsive_demo(duration: float = 1.0, frame_ms: float = 16.0, impls: list[Impl] | None = None) -> DemoResult:
    """Frame lateness of a 16 ms main loop while a worker thread runs each impl, and with the work on
    the main loop itself."""
    duration = DURATION.seconds(duration)
    frame_s = positive_seconds("frame_ms", frame_ms) / 1000
    impls = list(impls or _implementations.available_impls())
    def metered(tick: Callable[[], list[float]]) -> list[Any]:
        """The frame stats, then the control heartbeat's lateness and the verdict on the GIL: the sampler's
        reading where the GIL can be read, else the heartbeat's."""
        sampled = gil_unreadable_reason() is None
        with HeartbeatProbe() as probe, record_gil(label="responsive") if sampled else contextlib.nullcontext() as rec:
            lateness = tick()
        reading = rec.timeline.reading() if rec is not None else None
        found = verdict(Evidence(probe.gil_wait(), reading))
        return [*frame_stats(lateness, frame_s), probe.control_median_ms, found.text]

    rows = [["idle", *metered(lambda: _tick(frame_s, time.perf_counter() + duration))]]
    for impl in impls:
        stop = threading.Event()

        def work_until_stopped(impl: Impl = impl, stop: threading.Event = stop) -> None:
            while not stop.is_set():
                run_work(impl)

        worker = threading.Thread(target=work_until_stopped, daemon=True)
        worker.start()
        try:
            rows.append([f"worker thread: {impl}", *metered(lambda: _tick(frame_s, time.perf_counter() + duration))])
        finally:
            stop.set()
            worker.join()
    on_main = _implementations.ACTIVE_IMPLEMENTATION
    rows.append([f"on the main loop: {on_main}", *metered(
        lambda: _tick(frame_s, time.perf_counter() + duration,
                      on_frame=lambda frame: run_work(on_main) if frame == 1 else None))])
    columns = ["work", "p50 ms", "p99 ms", "max ms", "missed frames", "frames", "CPU wait ms", "the GIL meter says"]
    by_name = {row[0]: dict(zip(columns, row, strict=True)) for row in rows}
    native = by_name.get("worker thread: native")
    held = by_name.get("worker thread: native-gil")
    parts = []
    if native:
        parts.append(f"with native (GIL released) in a worker thread the loop missed {native['missed frames']} frames "
                     f"(p99 {native['p99 ms']:.1f} ms late)")
    if held and gil_enabled():
        parts.append(f"with the same compiled loop holding the GIL it missed {held['missed frames']} (median "
                     f"{held['p50 ms']:.1f} ms late, worst {held['max ms']:.0f} ms)")
    elif held:
        parts.append(f"native-gil has no GIL to hold on this build: it missed {held['missed frames']} (worst "
                     f"{held['max ms']:.1f} ms)")
    on_main_loop = dict(zip(columns, rows[-1], strict=True))
    parts.append(f"running the work on the main loop itself froze it for {on_main_loop['max ms']:.0f} ms")
    finding = "; ".join(parts) + ". Move long work off the main thread and out of the GIL."
    return DemoResult("responsive", columns, rows, finding)
