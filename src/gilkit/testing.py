"""Guard a GIL release in a test suite: ``assert_releases_gil(fn, *args)`` fails unless the GIL stayed free
for most of the time ``fn`` ran on N threads at once, ``assert_holds_gil`` the opposite. The pytest plugin
(pytest_gilkit, installed with gilkit) gives the same as the ``gil`` fixture: ``gil.releases(fn, *args)``.

What is measured. ``fn(*args, **kwargs)`` runs once on each of ``threads`` threads, released together, under
the GIL sampler (gilkit.timeline). The samples in which at least one of those threads was active (holding
the GIL, running, waiting for it or for a CPU: anything but blocked elsewhere) are the threads' time; the
share of them that found the GIL free is what ``releases`` asserts (at least ``min_free_share``), the
share that found it held by one of the threads what ``holds`` asserts (at least ``min_held_share``).
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
import unittest
from collections.abc import Callable

import numpy as np

from . import _validate
from ._build import gil_enabled
from ._timeline.blame import Attribution
from .gil_timeline import GilTimeline, gil_unreadable_reason, timeline

__all__ = ["MIN_FREE_SHARE", "MIN_HELD_SHARE", "GilAssertionError", "assert_holds_gil", "assert_releases_gil",
           "gil_shares"]

#: The share of the threads' time the GIL must be free for ``releases``: "most of it".
MIN_FREE_SHARE = 0.5
#: The share of the threads' time one of them must hold the GIL for ``holds``.
MIN_HELD_SHARE = 0.5

_one_at_a_time = threading.Lock()


class GilAssertionError(AssertionError):
    """The GIL did not do what the test asserted; ``timeline`` is the recording it rests on."""

    def __init__(self, message: str, recorded: GilTimeline) -> None:
        super().__init__(message)
        self.timeline = recorded


def gil_shares(recorded: GilTimeline) -> tuple[float, float]:
    """Of the samples in which at least one of the recording's worker threads was active: the share that
    found the GIL free, and the share that found one of the workers holding it."""
    times = recorded.times
    active = np.zeros(recorded.samples, dtype=bool)
    for lane in recorded.lanes:
        if lane.tid in recorded.workers:
            for stretch in lane.stretches:
                if stretch.state != "blocked":
                    active[np.searchsorted(times, stretch.start_s):np.searchsorted(times, stretch.stop_s)] = True
    if not active.any():
        return 0.0, 0.0
    free = float(np.mean(recorded.locked[active] == 0))
    held = float(np.mean(np.isin(recorded.holders[active], recorded.workers)))
    return free, held


def _record(fn: Callable[..., object], args: tuple[object, ...], threads: int,
            kwargs: dict[str, object]) -> GilTimeline:
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    count = _validate.integer("threads", threads, minimum=1, maximum=_validate.MAX_WORKERS)
    with _one_at_a_time:
        why = gil_unreadable_reason()
        if why is not None:
            raise unittest.SkipTest(f"the GIL cannot be read here: {why}" if gil_enabled()
                                    else "no GIL on this build: there is nothing to hold or release")
        return timeline(fn, *args, threads=count, **kwargs)  # type: ignore[arg-type]


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
    recorded = _record(fn, args, threads, kwargs)
    free, _ = gil_shares(recorded)
    if free < least:
        raise GilAssertionError(
            f"{_name(fn)} was expected to release the GIL, but the GIL was free {free:.0%} of the time its "
            f"{threads} thread{'s' if threads > 1 else ''} ran (at least {least:.0%} expected){_where(recorded)}"
            f"\n\n{recorded.table()}", recorded)
    return recorded


def assert_holds_gil(fn: Callable[..., object], /, *args: object, threads: int = 2,
                     min_held_share: float = MIN_HELD_SHARE, **kwargs: object) -> GilTimeline:
    """Run ``fn(*args, **kwargs)`` on ``threads`` threads at once and fail (GilAssertionError) unless one of
    them held the GIL at least ``min_held_share`` of the time they ran. Returns the timeline."""
    least = _validate.share("min_held_share", min_held_share)
    recorded = _record(fn, args, threads, kwargs)
    _, held = gil_shares(recorded)
    if held < least:
        raise GilAssertionError(
            f"{_name(fn)} was expected to hold the GIL, but its {threads} thread{'s' if threads > 1 else ''} "
            f"held it {held:.0%} of the time they ran (at least {least:.0%} expected)\n\n{recorded.table()}",
            recorded)
    return recorded
