"""What a GIL timeline is made of: the states a thread can be in (with their words and colours, in one
place), a thread's stretches in each, gilkit's kernel chunks, a lane per thread, the Python stacks the
sampler read, and the recording that holds them with its samples. Data and what follows from it directly;
the analysis, the blame, the trace, the folded stacks and the picture read it from above."""

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from .._durations import Durations
from ..verdict import GilWait

State = Literal["holding", "running", "waiting_gil", "waiting_cpu", "blocked"]
STATES: tuple[State, ...] = get_args(State)
DESCRIPTIONS: dict[State, str] = {
    "holding": "holds the GIL",
    "running": "runs without the GIL",
    "waiting_gil": "waits for the GIL",
    "waiting_cpu": "waits for a CPU",
    "blocked": "blocked elsewhere",
}
#: The picture's colours, from Okabe and Ito's palette for every colour vision: holding the GIL dark blue,
#: running without it sky blue, the waits warm, blocked grey. Simulated deuteranopia and protanopia keep
#: every pair at least 24 apart in CAM02-UCS (benchmarks/palette_check.py).
COLOURS: dict[State, str] = {
    "holding": "#0072B2",
    "running": "#56B4E9",
    "waiting_gil": "#D55E00",
    "waiting_cpu": "#F0E442",
    "blocked": "#D9D9D9",
}
#: And the waits' hatching: told apart by pattern too, not by hue alone.
HATCHES: dict[State, str | None] = {
    "holding": None,
    "running": None,
    "waiting_gil": "////",
    "waiting_cpu": "....",
    "blocked": None,
}


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
class Frame:
    """A Python function on a stack, as its code object names it."""

    #: The qualified name, e.g. "JSONEncoder.iterencode".
    function: str
    file: str
    #: The function's first line.
    line: int
    #: ``file`` as imported: relative to the sys.path entry it was found under, e.g. "json/encoder.py".
    path: str
    #: The dotted module the file is (e.g. "json.encoder"), "" where it is not under sys.path.
    module: str

    @property
    def full_name(self) -> str:
        """The module and qualified name, e.g. "json.encoder.JSONEncoder.iterencode"."""
        return f"{self.module}.{self.function}" if self.module else self.function

    def __str__(self) -> str:
        return f"{self.function} ({self.path}:{self.line})"


#: The frame that stands for a stack's outer frames past the sampler's depth limit.
ELIDED = Frame("...", "", 0, "", "")


@dataclass(frozen=True, eq=False)
class Stacks:
    """The Python stacks the sampler read: on a GIL build the holder's in every sample where the holder is
    known, on a build running without the GIL each running thread's. A stack is a node of a tree of
    frames (the innermost frame, below its caller's node)."""

    #: Per stack read: the sample's index, the native thread id, and the node (-1: the stack changed
    #: under the read, or could not be read).
    samples: np.ndarray = field(repr=False)
    tids: np.ndarray = field(repr=False)
    nodes: np.ndarray = field(repr=False)
    #: Per node: its caller's node (-1: none) and its frame (an index into ``frames``).
    parents: np.ndarray = field(repr=False)
    node_frames: np.ndarray = field(repr=False)
    frames: tuple[Frame, ...] = field(repr=False)
    #: Whether the tables filled up (later stacks read as unknown).
    full: bool = False

    def frames_of(self, node: int) -> tuple[Frame, ...]:
        """A node's stack, outermost frame first; () for -1."""
        found = []
        while node >= 0:
            found.append(self.frames[self.node_frames[node]])
            node = int(self.parents[node])
        return tuple(reversed(found))


@dataclass(frozen=True)
class ThreadLane:
    """One thread's row of the timeline."""

    tid: int
    name: str
    stretches: tuple[Stretch, ...]
    #: How long the thread was seen: from its first sample to its end or the recording's.
    seen_s: float
    #: Each wait for the GIL, as sampled (see gil_waits).
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


def gil_waits(stretches: tuple[Stretch, ...]) -> Durations:
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


@dataclass(frozen=True, eq=False)
class Recording:
    """One recording: its samples, a lane per thread, gilkit's kernel chunks (gilkit.gil_timeline's
    GilTimeline adds what they add up to)."""

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
    #: Threads the sampler found but could not watch then, for want of file descriptors: they have no lane,
    #: or one that starts late; ``note`` says so.
    unwatched_threads: int = 0
    #: The threads that ran the measured code, where that is known (gilkit.timeline's): what a reading
    #: reads by default; empty: every lane.
    workers: tuple[int, ...] = ()
    #: Per sample, how many other interpreters' own GILs were held (isolated subinterpreters, 3.12+: a
    #: thread holding its interpreter's GIL shows as holding); empty where not read.
    other_gils: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8), repr=False)
    #: The Python stacks read (None where none were: ``stacks_note`` says why).
    stacks: Stacks | None = field(default=None, repr=False)
    stacks_note: str | None = None

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

    @property
    def other_gils_note(self) -> str | None:
        """What the lanes' holds mean where subinterpreters' own GILs were held; None where none were."""
        most = int(self.other_gils.max()) if len(self.other_gils) else 0
        if not most:
            return None
        return (f"up to {most} subinterpreter{'s' if most > 1 else ''}' own GIL{'s' if most > 1 else ''} held at "
                "once beside the main interpreter's: a thread holding its interpreter's GIL shows as holding")

    def lane(self, thread: int | str) -> ThreadLane:
        """The lane of a native thread id (``threading.get_native_id()``) or a thread name."""
        for lane in self.lanes:
            if thread in (lane.tid, lane.name):
                return lane
        raise KeyError(f"no thread {thread!r} in this timeline; it has {', '.join(lane.name for lane in self.lanes)}")
