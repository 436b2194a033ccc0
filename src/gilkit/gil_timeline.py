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
* read by gilkit's own executor: when each chunk of a gilkit kernel ran, and on which thread (``chunks``),
  timed in compiled code right around the chunk.

Shares are time-weighted samples: a state that lasts less than an interval may be missed, and a hold is
known to within an interval. On a free-threaded build running without the GIL there is nothing to hold:
the timeline says so and shows running, waiting for a CPU and blocked. The GIL layouts of CPython 3.11,
3.12 and 3.13 are compiled in; on any other CPython the timeline shows the threads alone and takes the
heartbeat meter's reading (gilkit.heartbeat) for its verdict.
"""

import contextlib
import functools
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, get_args

import numpy as np

from . import _executor, _implementations, _validate
from ._build import build_label, gil_enabled
from ._durations import Durations
from ._statements import StatementError, compile_statement
from ._text import json_ready
from ._thread_runs import run_on_threads
from .heartbeat import HeartbeatProbe
from .verdict import Evidence, GilReading, GilWait, Verdict, verdict

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

State = Literal["holding", "running", "waiting_gil", "waiting_cpu", "blocked"]
#: In the sampler's numbering (ext/gil_sampler.h); a sixth code there marks a thread that has ended.
STATES: tuple[State, ...] = get_args(State)
DESCRIPTIONS: dict[State, str] = {
    "holding": "holds the GIL",
    "running": "runs without the GIL",
    "waiting_gil": "waits for the GIL",
    "waiting_cpu": "waits for a CPU",
    "blocked": "blocked elsewhere",
}
_ENDED = len(STATES)

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

_SAMPLE = np.dtype([("time", "f8"), ("switches", "i8"), ("holder_cpu_ns", "i8"), ("holder", "i4"),
                    ("locked", "i1"), ("drop_request", "i1")], align=True)
_CHANGE = np.dtype([("sample", "i4"), ("tid", "i4"), ("state", "i4")])


@dataclass(frozen=True)
class Stretch:
    """A thread in one state, in seconds since the recording began."""

    start_s: float
    stop_s: float
    state: State

    @property
    def seconds(self) -> float:
        return self.stop_s - self.start_s


@dataclass(frozen=True)
class Chunk:
    """One chunk of a gilkit kernel, as gilkit's executor ran it (seconds since the recording began)."""

    tid: int
    #: The chunk function that ran, e.g. "count_primes_segment".
    function: str
    start_s: float
    stop_s: float


@dataclass(frozen=True)
class ThreadLane:
    """One thread's row of the timeline."""

    tid: int
    name: str
    stretches: tuple[Stretch, ...]
    #: How long the thread was seen: from its first sample to its end or the recording's.
    seen_s: float
    #: Each wait for the GIL, as sampled (see _gil_waits).
    gil_waits: Durations
    #: The longest stretch of samples in which the thread held the GIL (to within an interval).
    longest_hold_s: float

    def share(self, state: State) -> float:
        """The share of ``seen_s`` the thread spent in ``state``."""
        spent = sum(stretch.seconds for stretch in self.stretches if stretch.state == state)
        return spent / self.seen_s if self.seen_s > 0 else 0.0

    @property
    def shares(self) -> dict[State, float]:
        return {state: self.share(state) for state in STATES}

    @property
    def blocked_throughout(self) -> bool:
        """Whether every sample found the thread blocked outside the GIL (it never ran, held or waited)."""
        return all(stretch.state == "blocked" for stretch in self.stretches)


@dataclass(frozen=True, eq=False)
class GilTimeline:
    """One recording: its samples, a lane per thread, gilkit's kernel chunks, and what they add up to
    (``table()``, ``figures()``, ``verdict()``, ``save_png()``, ``save_trace()``)."""

    label: str
    build: str
    #: Whether the GIL itself was read; if not, ``note`` says why.
    gil_read: bool
    note: str | None
    interval_s: float
    duration_s: float
    #: time.perf_counter() at the first sample: add it to any time of the timeline to compare with yours.
    origin: float
    #: Per sample: its time since the first, the native thread id holding the GIL (0: free, or unknown),
    #: the interpreter's switch counter, whether the GIL was locked (1), free (0), or not read (-1), the
    #: CPU time its holder had used so far (ns; -1 unknown), and whether another thread waited for it (in
    #: the GIL's wait, or asking for it).
    times: np.ndarray = field(repr=False)
    holders: np.ndarray = field(repr=False)
    switch_counts: np.ndarray = field(repr=False)
    locked: np.ndarray = field(repr=False)
    holder_cpu_ns: np.ndarray = field(repr=False)
    waited: np.ndarray = field(repr=False)
    #: GIL switches during the recording, by the interpreter's own counter (None where it was not read).
    switches: int | None
    switch_interval_s: float
    lanes: tuple[ThreadLane, ...]
    chunks: tuple[Chunk, ...]
    #: Threads that never ran and never held the GIL, and are not Python threads (idle BLAS threads...).
    hidden_threads: int
    sampler_cpu_s: float
    #: The heartbeat meter's reading, where there is a GIL that this timeline could not read.
    heartbeat: GilWait | None
    truncated: bool

    @property
    def samples(self) -> int:
        return len(self.times)

    @property
    def sample_interval_s(self) -> float:
        """The median time between samples (the interval asked for, plus the timer's slack)."""
        return float(np.median(np.diff(self.times))) if self.samples > 1 else math.nan

    @property
    def free_share(self) -> float | None:
        """The share of samples that found the GIL free (None where it was not read)."""
        return float(np.mean(self.locked == 0)) if self.gil_read and self.samples else None

    def lane(self, thread: int | str) -> ThreadLane:
        """The lane of a native thread id (``threading.get_native_id()``) or a thread name."""
        for lane in self.lanes:
            if thread in (lane.tid, lane.name):
                return lane
        raise KeyError(f"no thread {thread!r} in this timeline; it has {', '.join(lane.name for lane in self.lanes)}")

    def _held_while_waited_s(self, cpu_time: bool) -> np.ndarray:
        """At every sample, how much longer the GIL's holder kept it while another thread waited for it
        (0 where nobody waited): in wall time, or in the holder's own CPU time (to within an interval)."""
        # Runs of samples with one holder and no switch in between (where samples are sparse, another
        # thread may have held the GIL between two that name the same holder); each sample's holder keeps
        # the GIL to the end of its run.
        new_holder = np.diff(self.holders, prepend=-1) != 0
        starts = np.flatnonzero(new_holder | (np.diff(self.switch_counts, prepend=-2) != 0))
        ends = np.append(starts[1:], self.samples)
        end = np.repeat(ends, np.diff(np.append(starts, self.samples)))
        held = np.append(self.times, self.duration_s)[end] - self.times
        if cpu_time:
            last, cpu = end - 1, self.holder_cpu_ns
            known = (cpu >= 0) & (cpu[last] >= 0)
            held = np.where(known, (cpu[last] - cpu) / 1e9, held)
        return np.where((self.locked == 1) & self.waited, np.maximum(held, 0.0), 0.0)

    def gil_wait(self) -> GilWait:
        """The timeline as a meter reading for gilkit.verdict, over every sample, weighted by the time to
        the next: the median of how much longer the holder kept the GIL while others waited (wall time:
        what a waiting thread lives through), and the 90th percentile of the same in the holder's CPU
        time (whether the code kept the GIL while it ran, however busy the CPUs were). NaN where no
        thread ever waited for the GIL: nothing to judge."""
        if not self.gil_read:
            return self.heartbeat or GilWait(math.nan, math.nan, meter="timeline")
        if not self.waited.any():
            return GilWait(math.nan, math.nan, meter="timeline")
        weights = np.diff(np.append(self.times, self.duration_s))
        median = _weighted_quantile(self._held_while_waited_s(cpu_time=False), weights, 0.5)
        p90 = _weighted_quantile(self._held_while_waited_s(cpu_time=True), weights, 0.9)
        return GilWait(1000 * median, 1000 * p90, meter="timeline")

    def reading(self, workers: Iterable[int] | None = None) -> GilReading | None:
        """What the sampler read of the GIL, for a verdict: its free share, each worker's share holding it
        (``workers``: native thread ids; by default every lane), switches and waits. None where the GIL
        was not read."""
        if not self.gil_read or not self.samples:
            return None
        chosen = None if workers is None else set(workers)
        held = tuple(lane.share("holding") for lane in self.lanes if chosen is None or lane.tid in chosen)
        return GilReading(self.free_share or 0.0, held, self.switches or 0, self.duration_s, self.gil_wait())

    def verdict(self, workers: Iterable[int] | None = None) -> Verdict:
        """The verdict on the sampler's reading (``workers`` as for reading()), or on the heartbeat's where
        the GIL could not be read."""
        return verdict(Evidence(self.gil_wait(), reading=self.reading(workers),
                                gil=self.gil_read or self.heartbeat is not None))

    def figures(self) -> dict[str, Any]:
        """Every figure as plain JSON-able values (`gilkit timeline --json`); None where not measured."""
        found = self.verdict()
        return json_ready({
            "label": self.label,
            "build": self.build,
            "gil_read": self.gil_read,
            "note": self.note,
            "duration_s": self.duration_s,
            "interval_s": self.interval_s,
            "sample_interval_s": self.sample_interval_s,
            "samples": self.samples,
            "switches": self.switches,
            "switch_interval_s": self.switch_interval_s,
            "gil_free_share": self.free_share,
            "sampler_cpu_s": self.sampler_cpu_s,
            "truncated": self.truncated,
            "hidden_threads": self.hidden_threads,
            "threads": [{
                "tid": lane.tid,
                "name": lane.name,
                "seen_s": lane.seen_s,
                "shares": lane.shares,
                "longest_hold_s": lane.longest_hold_s,
                "gil_waits": {"count": len(lane.gil_waits), "median_ms": lane.gil_waits.median_ms,
                              "p90_ms": lane.gil_waits.p90_ms, "max_ms": lane.gil_waits.max_ms},
                "chunks": sum(chunk.tid == lane.tid for chunk in self.chunks),
            } for lane in self.lanes],
            "verdict": {"finding": found.finding, "text": found.text, "evidence": found.evidence},
        })

    def table(self) -> str:
        from ._text import aligned

        if self.gil_read:
            rows = [["thread", "holds GIL", "runs w/o GIL", "waits GIL", "waits CPU", "blocked", "longest hold",
                     "GIL waits (median, max)"]]
            for lane in self.lanes:
                waits = lane.gil_waits
                rows.append([lane.name, *(f"{lane.share(state):.0%}" for state in STATES),
                             f"{1000 * lane.longest_hold_s:.1f} ms",
                             f"{len(waits)}: {waits.median_ms:.2f} / {waits.max_ms:.2f} ms" if waits else "-"])
        else:  # nothing holds or waits for a GIL that is not read
            rows = [["thread", "runs", "waits CPU", "blocked"]]
            rows += [[lane.name, *(f"{lane.share(state):.0%}" for state in ("running", "waiting_cpu", "blocked"))]
                     for lane in self.lanes]
        if self.gil_read:
            gil = (f"{self.switches} GIL switches; GIL free {self.free_share:.0%} of the time; switch interval "
                   f"{1000 * self.switch_interval_s:g} ms")
        else:
            gil = f"GIL not read: {self.note}"
        return "\n".join([
            f"{self.label}  on {self.build}",
            f"{1000 * self.duration_s:.1f} ms, {self.samples} samples every {1e6 * self.sample_interval_s:.0f} us "
            f"(sampler CPU {1000 * self.sampler_cpu_s:.1f} ms); {gil}",
            "",
            *aligned(rows),
            "",
            f"verdict: {self.verdict()}",
        ])

    def __str__(self) -> str:
        return self.table()

    def chrome_trace(self) -> dict[str, Any]:
        """The Chrome trace-event format (ui.perfetto.dev, chrome://tracing): a track per thread with its
        states as slices, GIL switches as instant events on the new holder's track, and gilkit's kernel
        chunks on a second process's tracks."""
        pid = os.getpid()
        chunks_pid = pid + 1 if pid < 2**31 - 1 else pid - 1

        def us(seconds: float) -> float:
            return round(1e6 * seconds, 3)

        events: list[dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": pid, "args": {"name": f"GIL timeline: {self.label}"}},
            {"name": "process_name", "ph": "M", "pid": chunks_pid, "args": {"name": "gilkit kernel chunks"}},
        ]
        for order, lane in enumerate(self.lanes):
            for process in (pid, chunks_pid):
                events.append({"name": "thread_name", "ph": "M", "pid": process, "tid": lane.tid,
                               "args": {"name": lane.name}})
                events.append({"name": "thread_sort_index", "ph": "M", "pid": process, "tid": lane.tid,
                               "args": {"sort_index": order}})
            events += [{"name": DESCRIPTIONS[stretch.state], "cat": "gil", "ph": "X", "pid": pid, "tid": lane.tid,
                        "ts": us(stretch.start_s), "dur": us(stretch.seconds)} for stretch in lane.stretches]
        for chunk in self.chunks:
            events.append({"name": f"{chunk.function} chunk", "cat": "gilkit", "ph": "X", "pid": chunks_pid,
                           "tid": chunk.tid, "ts": us(chunk.start_s), "dur": us(chunk.stop_s - chunk.start_s)})
        if self.gil_read and self.samples > 1:
            # A sample after which the interpreter's switch counter moved on: the GIL has a new holder.
            changed = np.flatnonzero((np.diff(self.switch_counts) > 0) & (self.holders[1:] != 0)) + 1
            shown = {lane.tid for lane in self.lanes}
            events += [{"name": "GIL switch", "cat": "gil", "ph": "i", "s": "t", "pid": pid,
                        "tid": int(self.holders[k]), "ts": us(float(self.times[k]))}
                       for k in changed.tolist() if int(self.holders[k]) in shown]
        return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": self.figures()}

    def save_trace(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w") as f:
            json.dump(self.chrome_trace(), f)

    def plot(self, ax: "Axes | None" = None) -> "Figure":
        """Draw the timeline (needs matplotlib: gilkit[plot]); returns the figure."""
        from .plot import plot_timeline

        return plot_timeline(self, ax)

    def save_png(self, path: str | os.PathLike[str]) -> None:
        from .plot import save_timeline

        save_timeline(self, path)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose share of the total weight, with every smaller value's, reaches q."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    if cumulative[-1] <= 0:
        return float(np.quantile(values, q))
    return float(values[order][min(len(values) - 1, np.searchsorted(cumulative, q * cumulative[-1]))])


_recording = threading.Lock()  # one recording at a time: the GIL and the executor's chunk log are per process


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


def checked_interval(interval: object) -> float:
    """``interval`` in seconds, within [MIN_INTERVAL, MAX_INTERVAL]; else TypeError or ValueError."""
    seconds = _validate.positive_seconds("interval", interval, maximum=MAX_INTERVAL)
    if seconds < MIN_INTERVAL:
        raise ValueError(f"interval must be >= {MIN_INTERVAL:g} seconds, got {seconds:g}")
    return seconds


class GilRecorder:
    """``with record_gil() as rec: ...``; afterwards ``rec.timeline`` is the GilTimeline."""

    def __init__(self, interval: float = DEFAULT_INTERVAL, *, label: str = "recording",
                 max_samples: int = MAX_SAMPLES) -> None:
        self.interval = checked_interval(interval)
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, not {type(label).__name__}")
        self.label = label
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
        why = sampler_module.threads_unreadable_reason()
        if why is not None:
            raise RuntimeError(f"cannot record a GIL timeline here: {why}. gilkit.HeartbeatProbe and "
                               "`gilkit probe` still measure the GIL")
        if not _recording.acquire(blocking=False):
            raise RuntimeError("a GIL timeline is already recording in this process (one at a time)")
        with contextlib.ExitStack() as stack:
            stack.callback(_recording.release)
            self._gil_unreadable = sampler_module.gil_unreadable_reason()
            self._names.update(_python_thread_names())
            if threading.getprofile() is None:  # a user's own hook stays: their threads are named at the end
                threading.setprofile(_name_each_new_thread(self._names))
                stack.callback(threading.setprofile, None)
            self._chunks = stack.enter_context(_executor.logging_chunks(_executor.ChunkLog(sampler_module.timed_call)))
            # Where there is a GIL this build cannot read, the heartbeat meter still judges it, as before.
            self._heartbeat = (stack.enter_context(HeartbeatProbe())
                               if self._gil_unreadable is not None and gil_enabled() else None)
            self._sampler = sampler_module.Sampler(self.interval, self.max_samples)
            stack.callback(self._sampler.stop)
            self._stack = stack.pop_all()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        assert self._stack is not None
        with self._stack:
            self._sampler.stop()
            stopped = time.perf_counter()
        self._names = {**_python_thread_names(), **self._names}
        if kind is None:
            self._timeline = self._read(stopped)

    def _read(self, stopped: float) -> GilTimeline:
        sampler = self._sampler
        samples = np.frombuffer(sampler.samples(), _SAMPLE)
        changes = np.frombuffer(sampler.changes(), _CHANGE)
        origin = float(samples["time"][0]) if len(samples) else stopped
        times = samples["time"] - origin
        end = max(stopped - origin, float(times[-1]) if len(times) else 0.0)
        gil_read = self._gil_unreadable is None
        notes = [] if gil_read else [self._gil_unreadable or ""]
        if sampler.truncated:
            notes.append(f"the recording stopped after {len(samples)} samples (max_samples)")
        lanes, hidden = _lanes(times, changes, end, sampler.threads(), self._names, gil_read)
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
            truncated=sampler.truncated,
        )


def record_gil(interval: float = DEFAULT_INTERVAL, *, label: str = "recording",
               max_samples: int = MAX_SAMPLES) -> GilRecorder:
    """Record the GIL while the ``with`` block runs: every thread of the process, whoever started it.

    ``interval``: seconds between samples (default 200 us). One recording at a time per process. Needs
    the compiled extension and Linux; raises ImportError or RuntimeError saying why where they are missing.
    """
    return GilRecorder(interval, label=label, max_samples=max_samples)


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
    call = functools.partial(fn, *args, **kwargs)
    with record_gil(interval, label=label or str(getattr(fn, "__qualname__", repr(fn)))) as recorder:
        run = run_on_threads(call, count, 1, name="gilkit-timeline", ready=recorder.wait_until_watched)
        for thread in run.threads:
            if thread.native_id is not None:
                recorder.name_thread(thread.native_id, thread.name)
    return recorder.timeline


def timeline_statement(statement: str, setup: str = "", namespace: dict[str, Any] | None = None, *,
                       threads: int = 2, interval: float = DEFAULT_INTERVAL) -> GilTimeline:
    """timeline() for a statement given as text, run in ``namespace`` (a new one by default) after ``setup``.

    A statement or setup that does not compile or raises: StatementError with a one-line message.
    """
    run = compile_statement(statement, setup, namespace)
    try:
        return timeline(run, threads=threads, interval=interval, label=statement.strip())
    except Exception as exc:
        raise StatementError(f"the statement raised {type(exc).__name__}: {exc}") from None


def _name_each_new_thread(names: dict[int, str]) -> Callable[[Any, str, Any], None]:
    """A profile hook that threading installs in each thread it starts: it notes the thread's name (the
    thread may end before the recording does) and removes itself at the thread's first call."""

    def note_name(frame: Any, event: str, arg: Any) -> None:
        sys.setprofile(None)
        names.setdefault(threading.get_native_id(), threading.current_thread().name)

    return note_name


def _python_thread_names() -> dict[int, str]:
    return {thread.native_id: thread.name for thread in threading.enumerate() if thread.native_id is not None}


def _lanes(times: np.ndarray, changes: np.ndarray, end: float, threads: list[tuple[int, str]],
           python_names: dict[int, str], gil_read: bool) -> tuple[tuple[ThreadLane, ...], int]:
    """Each watched thread's lane, the main thread first, then in the order they were first seen; and how
    many threads were left out as idle non-Python threads."""
    edges = np.append(times, end)
    main = threading.main_thread().native_id
    lanes, hidden = [], 0
    first_names: dict[int, str] = {}  # a thread id the kernel gave out again later keeps one lane
    for tid, kernel_name in threads:
        first_names.setdefault(tid, kernel_name)
    for tid, kernel_name in sorted(first_names.items(), key=lambda thread: thread[0] != main):
        rows = changes[changes["tid"] == tid]
        stretches = _stretches(edges, rows["sample"].tolist(), rows["state"].tolist())
        if tid not in python_names and all(stretch.state == "blocked" for stretch in stretches):
            hidden += 1
            continue
        name = python_names.get(tid) or (kernel_name if kernel_name and not kernel_name.startswith("python")
                                         else f"thread {tid}")
        holds = [stretch.seconds for stretch in stretches if stretch.state == "holding"]
        lanes.append(ThreadLane(
            tid=tid, name=name, stretches=stretches,
            seen_s=stretches[-1].stop_s - stretches[0].start_s if stretches else 0.0,
            gil_waits=_gil_waits(stretches) if gil_read else Durations(), longest_hold_s=max(holds, default=0.0),
        ))
    return tuple(lanes), hidden


def _stretches(edges: np.ndarray, samples: list[int], states: list[int]) -> tuple[Stretch, ...]:
    """A thread's changes of state (from sample k on, state s) as stretches of time, up to its end."""
    stretches = []
    for index, (first, code) in enumerate(zip(samples, states, strict=True)):
        if code == _ENDED:
            break
        last = samples[index + 1] if index + 1 < len(samples) else len(edges) - 1
        stretches.append(Stretch(float(edges[first]), float(edges[last]), STATES[code]))
    return tuple(stretches)


def _gil_waits(stretches: tuple[Stretch, ...]) -> Durations:
    """Each run of samples in which the thread waited for the GIL, from its first such sample to the
    first that found it doing anything else (mostly: holding the GIL, or running once it had it); a
    wait still going on when the recording ended is left out."""
    waits, since = [], None
    for stretch in stretches:
        if stretch.state == "waiting_gil":
            since = stretch.start_s if since is None else since
        elif since is not None:
            waits.append(stretch.start_s - since)
            since = None
    return Durations.of(waits)
