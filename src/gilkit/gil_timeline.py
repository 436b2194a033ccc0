"""The GIL timeline: thread by thread, when each held the GIL, ran without it, waited for it, waited for a
CPU or was blocked elsewhere, read from the interpreter's own GIL while any code runs.

``with record_gil() as rec: ...`` records any code and the threads it starts (then ``rec.timeline``);
``timeline(fn, *args, threads=2)`` runs ``fn`` on N threads at once and records them; ``gilkit timeline``
and the ``%%giltimeline`` magic do the same from a shell and a notebook. A :class:`GilTimeline` draws
itself (``save_png``), writes a Chrome trace that ui.perfetto.dev opens (``save_trace``), and gives its
figures (``figures()``, ``table()``, ``verdict()``).

What is read, and what is inferred. A native thread (gilkit._native._gilsampler), which never takes the
GIL and calls no Python API, takes a sample every ``interval``:

* read from the interpreter: whether the GIL is locked, which thread holds it (the GIL's last holder,
  mapped to its native thread id through that thread's own thread state), the interpreter's switch
  counter (exact: every change of holder counts) and the drop request a waiting thread raises after a
  switch interval;
* read from the kernel, for every other thread (/proc/self/task/<tid>/syscall): runnable, blocked on a
  futex inside the GIL's own structure (waiting for the GIL), or blocked in any other system call (I/O,
  sleep, other locks: "blocked elsewhere");
* inferred: "waiting for a CPU", a runnable thread whose run-queue delay (/proc/.../schedstat) grew more
  than its CPU time since the previous sample; "running without the GIL", a runnable thread that does not
  hold it;
* read from the interpreter, by a path that cannot fault: the GIL holder's Python stack in each sample
  (on a free-threaded build running without the GIL, each running thread's), from which ``held_in()``,
  ``blame()`` and ``save_folded()`` say where the GIL was held and who each wait was behind;
* read by gilkit's own executor: when each chunk of a gilkit kernel ran, and on which thread (``chunks``),
  timed in compiled code right around the chunk.

Shares are time-weighted samples: a state that lasts less than an interval may be missed, and a hold is
known to within an interval. On a free-threaded build running without the GIL there is nothing to hold:
the timeline says so and shows running, waiting for a CPU and blocked. The GIL layouts of CPython 3.11,
3.12 and 3.13 are compiled in; on any other CPython the timeline shows the threads alone and takes the
heartbeat meter's reading (gilkit.heartbeat) for its verdict.
"""

import contextlib
import dataclasses
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from . import _executor, _implementations, _validate
from ._build import build_label, gil_enabled
from ._statements import StatementError, compile_statement
from ._thread_runs import run_on_threads
from ._timeline import analysis, folded, records, trace
from ._timeline.blame import Attribution, Behind, Held, Site
from ._timeline.model import DESCRIPTIONS, STATES, Chunk, Frame, Recording, Stacks, State, Stretch, ThreadLane
from .heartbeat import HeartbeatProbe
from .verdict import GilReading, GilWait, Verdict

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DEFAULT_INTERVAL", "DESCRIPTIONS", "MAX_INTERVAL", "MAX_SAMPLES", "MIN_INTERVAL", "STATES", "Behind",
           "Chunk", "Frame", "GilRecorder", "GilTimeline", "Held", "Site", "Stacks", "State", "Stretch",
           "ThreadLane", "checked_interval", "gil_unreadable_reason", "record_gil", "record_threads",
           "recording_unavailable_reason", "timeline", "timeline_statement"]

DEFAULT_INTERVAL = 200e-6
MIN_INTERVAL = 20e-6
MAX_INTERVAL = 0.1
#: The most samples one recording keeps (about 10 minutes at the default interval, 72 MB): a longer
#: recording stops sampling there and says so.
MAX_SAMPLES = 3_000_000
#: How long GilRecorder.wait_until_watched waits for the sampler to find new threads and sample them (it
#: looks for them every 20 ms, later where every CPU is busy), and how often it asks.
WATCH_TIMEOUT_S = 5.0
WATCH_POLL_S = 1e-3


@dataclass(frozen=True, eq=False)
class GilTimeline(Recording):
    """One recording (gilkit._timeline.model.Recording: its samples, a lane per thread, gilkit's kernel
    chunks) and what they add up to: ``table()``, ``figures()``, ``reading()``, ``verdict()``,
    ``save_png()``, ``save_trace()``."""

    def gil_wait(self) -> GilWait:
        """How long a holder kept the GIL while others waited, as a meter reading (see
        gilkit._timeline.analysis.gil_wait)."""
        return analysis.gil_wait(self)

    def reading(self, workers: Iterable[int] | None = None) -> GilReading | None:
        """What the sampler read of the GIL, for a verdict: its free share, each worker's share holding it
        (``workers``: native thread ids; by default the threads gilkit.timeline ran the code on, else every
        lane), switches and waits. None where the GIL was not read."""
        return analysis.reading(self, workers)

    def verdict(self, workers: Iterable[int] | None = None) -> Verdict:
        """The verdict on the sampler's reading (``workers`` as for reading()), or on the heartbeat's where
        the GIL could not be read."""
        return analysis.timeline_verdict(self, workers)

    def figures(self) -> dict[str, Any]:
        """Every figure as plain JSON-able values (`gilkit timeline --json`); None where not measured."""
        return analysis.figures(self)

    def table(self) -> str:
        return analysis.table(self)

    def held_in(self, thread: int | str) -> list[Held]:
        """Where a thread (a native id or a name) held the GIL, the longest first: a place (the first frame
        of its own code, and the innermost; None where the stack was not read), its seconds and share.
        Empty where the GIL or the stacks were not read."""
        return Attribution(self).held_in(self.lane(thread).tid)

    def blame(self, thread: int | str) -> tuple[float, list[Behind]]:
        """How long a thread waited for the GIL, and behind whom and where, the longest first."""
        return Attribution(self).blame(self.lane(thread).tid)

    def folded_stacks(self) -> list[str]:
        """The GIL holder's stacks as folded lines, ``thread;outer;...;inner count`` (flamegraph.pl,
        speedscope, inferno); on a build running without the GIL, every running thread's."""
        return folded.folded_stacks(self)

    def save_folded(self, path: str | os.PathLike[str]) -> None:
        folded.save_folded(self, path)

    def __str__(self) -> str:
        return self.table()

    def chrome_trace(self) -> dict[str, Any]:
        """The Chrome trace-event format (ui.perfetto.dev, chrome://tracing): a track per thread with its
        states as slices, GIL switches as instant events on the new holder's track, and gilkit's kernel
        chunks on a second process's tracks."""
        return trace.chrome_trace(self)

    def save_trace(self, path: str | os.PathLike[str]) -> None:
        trace.save_trace(self, path)

    def plot(self, ax: "Axes | None" = None, *, presentation: bool = False) -> "Figure":
        """Draw the timeline (needs matplotlib: gilkit[plot]); returns the figure. ``presentation``: larger
        text and lanes, for a projector."""
        from .plot import plot_timeline

        return plot_timeline(self, ax, presentation=presentation)

    def save_png(self, path: str | os.PathLike[str], *, presentation: bool = False) -> None:
        from .plot import save_timeline

        save_timeline(self, path, presentation=presentation)

    def _repr_png_(self) -> bytes | None:
        """The picture, for IPython and Jupyter (``display(timeline)``); None without matplotlib."""
        try:
            from .plot import timeline_png

            return timeline_png(self)
        except ImportError:
            return None


_recording = threading.Lock()  # one recording at a time: the GIL and the executor's chunk log are per process


def _forget_recording() -> None:
    """In a child forked while a recording ran: the sampler thread did not come along, so neither does the
    recording; the child may record its own."""
    global _recording
    _recording = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_recording)


def gil_unreadable_reason() -> str | None:
    """None where a recording can read the GIL now; else why not, in words (no compiled extension, not
    Linux, a CPython whose GIL layout is not compiled in, no GIL enabled, or a recording already running):
    then the heartbeats (gilkit.heartbeat) judge the GIL instead."""
    if not _implementations.NATIVE_AVAILABLE:
        return f"no compiled extension: {_implementations.NATIVE_UNAVAILABLE_REASON}"
    if not gil_enabled():
        return "no GIL is enabled"
    sampler_module = _implementations.native_module("_gilsampler")
    why = sampler_module.threads_unreadable_reason() or sampler_module.gil_unreadable_reason()
    if why is None and _recording.locked():
        return "a GIL timeline is already recording in this process"
    return why


def recording_unavailable_reason() -> str | None:
    """None where record_gil() can record here (the GIL itself or not: see gil_unreadable_reason); else why
    not, in words (no compiled extension, not Linux, a recording already running)."""
    if not _implementations.NATIVE_AVAILABLE:
        return f"no compiled extension: {_implementations.NATIVE_UNAVAILABLE_REASON}"
    why = _implementations.native_module("_gilsampler").threads_unreadable_reason()
    if why is None and _recording.locked():
        return "a GIL timeline is already recording in this process"
    return why


def checked_interval(interval: object) -> float:
    """``interval`` in seconds, within [MIN_INTERVAL, MAX_INTERVAL]; else TypeError or ValueError."""
    seconds = _validate.positive_seconds("interval", interval, maximum=MAX_INTERVAL)
    if seconds < MIN_INTERVAL:
        raise ValueError(f"interval must be >= {MIN_INTERVAL:g} seconds, got {seconds:g}")
    return seconds


class GilRecorder:
    """``with record_gil() as rec: ...``; afterwards ``rec.timeline`` is the GilTimeline."""

    def __init__(self, interval: float = DEFAULT_INTERVAL, *, label: str = "recording",
                 max_samples: int = MAX_SAMPLES, stacks: bool = True) -> None:
        self.interval = checked_interval(interval)
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, not {type(label).__name__}")
        if not isinstance(stacks, bool):
            raise TypeError(f"stacks must be True or False, not {type(stacks).__name__}")
        self.label = label
        self.stacks = stacks
        self.max_samples = _validate.integer("max_samples", max_samples, minimum=2, maximum=2**31 - 1)
        self._timeline: GilTimeline | None = None
        self._stack: contextlib.ExitStack | None = None
        self._names: dict[int, str] = {}

    def name_thread(self, native_id: int, name: str) -> None:
        """Name a thread's lane. Python threads alive when the recording starts or ends are named by
        themselves; one that ends in between shows as "thread <id>" unless named here."""
        self._names[_validate.integer("native_id", native_id, minimum=1)] = str(name)

    @property
    def samples_taken(self) -> int:
        """How many samples this recording has taken so far: work that must be seen by the sampler (whose
        low priority lets it look rarely while every CPU is busy) can go on until this has grown."""
        if self._stack is None:
            raise RuntimeError("samples_taken is known once the `with record_gil()` block has started")
        return int(self._sampler.taken)

    def wait_until_watched(self, threads: Iterable[threading.Thread], timeout: float = WATCH_TIMEOUT_S) -> bool:
        """Wait until the sampler has found each of these started threads and taken a sample of it, so
        that each has a lane however soon it ends: on a busy machine the sampler, which runs at a low
        priority, may find a new thread late, and a short thread could start and end between two of its
        looks. True once it has sampled them all; False if ``timeout`` seconds pass first (the recording
        goes on, and may miss them)."""
        if self._stack is None:
            raise RuntimeError("wait_until_watched works inside the `with record_gil()` block")
        ids = [thread.native_id for thread in threads if thread.native_id is not None]
        deadline = time.monotonic() + timeout
        while not all(self._sampler.watches(tid) for tid in ids):
            if time.monotonic() > deadline:
                return False
            time.sleep(WATCH_POLL_S)
        return True

    @property
    def timeline(self) -> GilTimeline:
        if self._timeline is None:
            raise RuntimeError("the timeline is ready once the `with record_gil()` block has ended")
        return self._timeline

    def __enter__(self) -> Self:
        if self._stack is not None or self._timeline is not None:
            raise RuntimeError("a GilRecorder can be entered only once; make a new one")
        sampler_module = _implementations.native_module("_gilsampler")  # without it: says how to build it
        self._states = records.state_names(sampler_module)  # LayoutError: a build that does not match
        why = sampler_module.threads_unreadable_reason()
        if why is not None:
            raise RuntimeError(f"cannot record a GIL timeline here: {why}. gilkit.HeartbeatProbe and "
                               "`gilkit probe` still measure the GIL")
        if not _recording.acquire(blocking=False):
            raise RuntimeError("a GIL timeline is already recording in this process (one at a time)")
        with contextlib.ExitStack() as stack:
            stack.callback(_recording.release)
            self._gil_unreadable = sampler_module.gil_unreadable_reason()
            self._names.update(records.python_thread_names())
            if threading.getprofile() is None:  # a user's own hook stays: their threads are named at the end
                threading.setprofile(_name_each_new_thread(self._names))
                stack.callback(threading.setprofile, None)
            self._chunks = stack.enter_context(_executor.logging_chunks(_executor.ChunkLog(sampler_module.timed_call)))
            # Where there is a GIL this build cannot read, the heartbeat meter still judges it, as before.
            self._heartbeat = (stack.enter_context(HeartbeatProbe())
                               if self._gil_unreadable is not None and gil_enabled() else None)
            self._sampler_module = sampler_module
            self._sampler = sampler_module.Sampler(self.interval, self.max_samples, self.stacks)
            stack.callback(self._sampler.stop)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        assert self._stack is not None
        with self._stack:
            self._sampler.stop()
            stopped = time.perf_counter()
        self._names = {**records.python_thread_names(), **self._names}
        if kind is None:
            self._timeline = self._read(stopped)

    def _read(self, stopped: float) -> GilTimeline:
        sampler = self._sampler
        samples = np.frombuffer(sampler.samples(), records.SAMPLE)
        changes = np.frombuffer(sampler.changes(), records.CHANGE)
        origin = float(samples["time"][0]) if len(samples) else stopped
        times = samples["time"] - origin
        end = max(stopped - origin, float(times[-1]) if len(times) else 0.0)
        gil_read = self._gil_unreadable is None
        notes = [] if gil_read else [self._gil_unreadable or ""]
        if sampler.truncated:
            notes.append(f"the recording stopped after {len(samples)} samples (max_samples)")
        for_fds, short_of_memory = sampler.missed
        if for_fds:
            notes.append(f"{for_fds} thread{'s' if for_fds > 1 else ''} could not be watched when found: out of "
                         "file descriptors, so their lanes are missing or start late (the sampler needs two a "
                         "thread and leaves the last 32 to the program; `ulimit -n` raises the limit)")
        if short_of_memory:
            notes.append("some threads could not be watched: out of memory")
        module = self._sampler_module
        stacks = records.stacks(sampler, len(samples), module.STACK_UNKNOWN, module.FUNCTION_ELIDED)
        stacks_note = sampler.stacks_unread if self.stacks else "stacks were not asked for"
        if stacks is not None and stacks.full:
            stacks_note = "the stack tables filled up: later stacks are unknown"
        lanes, hidden = records.lanes(times, changes, end, sampler.threads(), self._names, gil_read,
                                      self._states)
        waiting = np.zeros(len(samples) + 1, dtype=np.int64)  # +1 where a wait for the GIL starts, -1 where it ends
        for lane in lanes:
            for stretch in lane.stretches:
                if stretch.state == "waiting_gil":
                    waiting[np.searchsorted(times, stretch.start_s)] += 1
                    waiting[np.searchsorted(times, stretch.stop_s)] -= 1
        return GilTimeline(
            label=self.label, build=build_label(), gil_read=gil_read, note="; ".join(notes) or None,
            interval_s=self.interval, duration_s=end, origin=origin, times=times,
            holders=samples["holder"].copy(), switch_counts=samples["switches"].copy(), locked=samples["locked"].copy(),
            holder_cpu_ns=samples["holder_cpu_ns"].copy(),
            waited=(np.cumsum(waiting)[:-1] > 0) | (samples["drop_request"] == 1),
            switches=int(samples["switches"][-1] - samples["switches"][0]) if gil_read and len(samples) else None,
            switch_interval_s=sys.getswitchinterval(), lanes=lanes,
            chunks=tuple(Chunk(tid, function, start - origin, stop - origin)
                         for tid, function, start, stop in self._chunks.spans),
            hidden_threads=hidden, sampler_cpu_s=sampler.cpu_seconds,
            heartbeat=self._heartbeat.gil_wait() if self._heartbeat is not None else None,
            truncated=sampler.truncated, unwatched_threads=for_fds, other_gils=samples["other_gils"].copy(),
            stacks=stacks, stacks_note=stacks_note,
        )


def record_gil(interval: float = DEFAULT_INTERVAL, *, label: str = "recording",
               max_samples: int = MAX_SAMPLES, stacks: bool = True) -> GilRecorder:
    """Record the GIL while the ``with`` block runs: every thread of the process, whoever started it.

    ``interval``: seconds between samples (default 200 us). ``stacks``: read the GIL holder's Python stack
    in every sample (on a build running without the GIL, each running thread's), for ``held_in()``,
    ``blame()`` and ``save_folded()``. One recording at a time per process. Needs the compiled extension
    and Linux; raises ImportError or RuntimeError saying why where they are missing.
    """
    return GilRecorder(interval, label=label, max_samples=max_samples, stacks=stacks)


def timeline(fn: Callable[..., object], /, *args: object, threads: int = 2, interval: float = DEFAULT_INTERVAL,
             label: str | None = None, **kwargs: object) -> GilTimeline:
    """Run ``fn(*args, **kwargs)`` once on each of ``threads`` threads, released together, and record the GIL.

    The threads are released once the sampler has sampled them all, so each has a lane however short its
    work and however busy the CPUs (up to a wait of WATCH_TIMEOUT_S). The first exception of ``fn``
    (from whichever thread) propagates once every thread has ended. The names ``threads``, ``interval``
    and ``label`` are the timeline's own: wrap ``fn`` in a lambda to pass arguments of those names to it.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    count = _validate.integer("threads", threads, minimum=1, maximum=_validate.MAX_WORKERS)
    return record_threads(functools.partial(fn, *args, **kwargs), count, interval=interval,
                          label=label or str(getattr(fn, "__qualname__", repr(fn))))


def record_threads(call: Callable[[], object], count: int, *, label: str, interval: float = DEFAULT_INTERVAL,
                   min_samples: int = 0) -> GilTimeline:
    """timeline() of ``call()`` on ``count`` threads (validated by the caller): each thread calls it once, and
    again until the recording has taken ``min_samples`` samples (a short call would otherwise be judged on a
    handful, where a busy machine starves the sampler)."""

    def calls() -> None:
        call()
        while recorder.samples_taken < min_samples:
            call()

    with record_gil(interval, label=label) as recorder:
        run = run_on_threads(calls, count, 1, name="gilkit-timeline", ready=recorder.wait_until_watched)
        workers = tuple(thread.native_id for thread in run.threads if thread.native_id is not None)
        for thread, native_id in zip(run.threads, workers, strict=True):
            recorder.name_thread(native_id, thread.name)
    return dataclasses.replace(recorder.timeline, workers=workers)


def timeline_statement(statement: str, setup: str = "", namespace: dict[str, Any] | None = None, *,
                       threads: int = 2, interval: float = DEFAULT_INTERVAL) -> GilTimeline:
    """timeline() for a statement given as text, run in ``namespace`` (a new one by default) after ``setup``.

    A statement or setup that does not compile or raises: StatementError with a one-line message.
    """
    run = compile_statement(statement, setup, namespace)

    def statement_run() -> None:
        try:
            run()
        except Exception as exc:  # the user's code only: gilkit's own errors stay what they are
            raise StatementError(f"the statement raised {type(exc).__name__}: {exc}") from None

    return timeline(statement_run, threads=threads, interval=interval, label=statement.strip())


def _name_each_new_thread(names: dict[int, str]) -> Callable[[Any, str, Any], None]:
    """A profile hook that threading installs in each thread it starts: it notes the thread's name (the
    thread may end before the recording does) and removes itself at the thread's first call."""

    def note_name(frame: Any, event: str, arg: Any) -> None:
        sys.setprofile(None)
        names.setdefault(threading.get_native_id(), threading.current_thread().name)

    return note_name
