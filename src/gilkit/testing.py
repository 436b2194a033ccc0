"""Guard a GIL release in a test suite: ``assert_releases_gil(fn, *args)`` fails unless the GIL stayed free
for most of the time ``fn`` ran on N threads at once, ``assert_holds_gil`` the opposite. The pytest plugin
(pytest_gilkit, installed with gilkit) gives the same as the ``gil`` fixture: ``gil.releases(fn, *args)``.

What is measured. ``fn(*args, **kwargs)`` runs on each of ``threads`` threads, released together, under the
GIL sampler (gilkit.timeline): once, and again until the recording has MIN_SAMPLES samples. The samples taken
while at least one of those calls ran (from its first
line to its return, timed around it) are the calls' time, without the threads' start and end; the share of
them that found the GIL free is what ``releases`` asserts (at least ``min_free_share``), the share that found
it held by one of the threads what ``holds`` asserts (at least ``min_held_share``).
Neither needs idle CPUs: a thread that released the GIL leaves it free whether or not a CPU is there to
run it, and a thread that holds it keeps it locked while it waits for a CPU. The failure message has
the timeline's table, with where the GIL was held.

A recording reads the whole process's GIL, so recordings run one at a time: calls from several threads
at once wait for each other, and the plugin marks tests that use the fixture thread-unsafe for
pytest-run-parallel (their other test threads would hold the GIL meanwhile). Under pytest-xdist each
worker process records its own GIL; nothing needs doing there. Where the GIL cannot be read (no compiled
extension, not Linux, a CPython whose GIL layout is not compiled in) or there is none (a free-threaded
build running without it), the assertions raise unittest.SkipTest, which pytest and unittest both report
as a skip with the reason.
"""

import threading
import time
import unittest
from collections.abc import Callable, Iterable
from typing import Literal

import numpy as np

from . import _validate
from ._build import gil_enabled
from ._timeline.blame import Attribution
from .gil_timeline import GilTimeline, gil_unreadable_reason, record_threads

__all__ = ["MIN_FREE_SHARE", "MIN_HELD_SHARE", "GilAssertionError", "assert_holds_gil", "assert_releases_gil"]

#: The share of the threads' time the GIL must be free for ``releases``: "most of it".
MIN_FREE_SHARE = 0.5
#: The share of the threads' time one of them must hold the GIL for ``holds``.
MIN_HELD_SHARE = 0.5
#: The samples a judgement rests on at least: each thread calls ``fn`` again until the recording has taken
#: this many (a busy machine starves the sampler, which runs at a low priority).
MIN_SAMPLES = 300

_one_at_a_time = threading.Lock()


class GilAssertionError(AssertionError):
    """The GIL did not do what the test asserted; ``timeline`` is the recording it rests on."""

    def __init__(self, message: str, recorded: GilTimeline) -> None:
        super().__init__(message)
        self.timeline = recorded


def _shares(recorded: GilTimeline, spans: Iterable[tuple[float, float]]) -> tuple[float, float]:
    """Of the samples taken while at least one call ran (``spans``: each call's start and end, on
    time.perf_counter's clock): the share that found the GIL free, and the share that found one of the
    recording's worker threads holding it."""
    times = recorded.times + recorded.origin
    running = np.zeros(recorded.samples, dtype=bool)
    for start, stop in spans:
        running[np.searchsorted(times, start):np.searchsorted(times, stop)] = True
    if not running.any():
        return 0.0, 0.0
    free = float(np.mean(recorded.locked[running] == 0))
    held = float(np.mean(np.isin(recorded.holders[running], recorded.workers)))
    return free, held


def _record(fn: Callable[..., object], args: tuple[object, ...], threads: int,
            kwargs: dict[str, object]) -> tuple[GilTimeline, list[tuple[float, float]]]:
    """The timeline of ``fn`` on ``threads`` threads at once, and when each call ran."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    count = _validate.integer("threads", threads, minimum=1, maximum=_validate.MAX_WORKERS)
    spans: list[tuple[float, float]] = []

    def timed() -> None:
        start = time.perf_counter()
        try:
            fn(*args, **kwargs)
        finally:
            spans.append((start, time.perf_counter()))

    with _one_at_a_time:
        why = gil_unreadable_reason()
        if why is not None:
            raise unittest.SkipTest(f"the GIL cannot be read here: {why}" if gil_enabled()
                                    else "no GIL on this build: there is nothing to hold or release")
        return record_threads(timed, count, label=_name(fn), min_samples=MIN_SAMPLES), spans


def _name(fn: Callable[..., object]) -> str:
    return str(getattr(fn, "__qualname__", repr(fn)))


def _where(recorded: GilTimeline) -> str:
    culprit = Attribution(recorded).culprit(recorded.workers)
    return "" if culprit is None else f"; it was held longest in {culprit.full_name} ({culprit.path}:{culprit.line})"


def assert_releases_gil(fn: Callable[..., object], /, *args: object, threads: int = 2,
                        min_free_share: float = MIN_FREE_SHARE, **kwargs: object) -> GilTimeline:
    """Run ``fn(*args, **kwargs)`` on ``threads`` threads at once and fail (GilAssertionError) unless the
    GIL was free at least ``min_free_share`` of the time they ran. Returns the timeline."""
    least = _validate.share("min_free_share", min_free_share)
    return _asserted(fn, args, kwargs, threads, least, "release")


def assert_holds_gil(fn: Callable[..., object], /, *args: object, threads: int = 2,
                     min_held_share: float = MIN_HELD_SHARE, **kwargs: object) -> GilTimeline:
    """Run ``fn(*args, **kwargs)`` on ``threads`` threads at once and fail (GilAssertionError) unless one of
    them held the GIL at least ``min_held_share`` of the time they ran. Returns the timeline."""
    least = _validate.share("min_held_share", min_held_share)
    return _asserted(fn, args, kwargs, threads, least, "hold")


def _asserted(fn: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object], threads: int,
              least: float, expected: Literal["release", "hold"]) -> GilTimeline:
    recorded, spans = _record(fn, args, threads, kwargs)
    free, held = _shares(recorded, spans)
    if (free if expected == "release" else held) >= least:
        return recorded
    ran = f"{threads} thread{'s' if threads > 1 else ''}"
    found = (f"the GIL was free {free:.0%} of the time its {ran} ran" if expected == "release"
             else f"its {ran} held it {held:.0%} of the time they ran")
    raise GilAssertionError(f"{_name(fn)} was expected to {expected} the GIL, but {found} (at least {least:.0%} "
                            f"expected){_where(recorded)}\n\n{recorded.table()}", recorded)
