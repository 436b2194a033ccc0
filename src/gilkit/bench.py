"""Time every (kernel, impl, mode, workers) cell and derive speedups: the engine behind `gilkit bench`.

Each impl gets a problem sized so one call takes a comparable, bounded time (the pure-Python twin a
smaller one), so impls are compared by throughput (items per second) and workers by speedup.

A run has three steps, each apart from the others:

1. warm-up, (kernel, impl, mode) by (kernel, impl, mode): one call per worker count under the heartbeats
   (gilkit.heartbeat), which ``--detail`` shows as a second opinion;
2. the GIL column, likewise: calls on the most workers under the GIL sampler (gilkit.gil_timeline) for
   READING_SECONDS, read as each worker's share holding the GIL and the GIL's free share (the heartbeats
   judge where the GIL cannot be read; in processes and interpreters mode each worker has a GIL of its own);
3. timed rounds, unmetered. A round of a (kernel, impl, mode) calls every worker count once, in an order
   that alternates round by round, so it pairs a 1-worker time with an N-worker time taken moments apart;
   and the rounds of all of them take turns, one round each in every sweep, so that a disturbance of the
   machine lasting a second or two (another program, a neighbour on the VM's host) falls on one or two
   rounds of a cell, never on all of them. The speedup is the median of the pairs' ratios, with its 95%
   interval (gilkit._stats); a cell gets rounds until its interval is within +/- verdict.INTERVAL_TARGET
   or its budget is spent. What else used the CPUs during its rounds is read as well (gilkit._cpu_load).

A speedup that breaks a physical bound beyond its interval (above the workers used, or above
verdict.HELD_SPEEDUP_LIMIT while the GIL was held) is timed again, and flagged with the reason gilkit can
name if it persists.
"""

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ._cpu_load import others_busy_seconds, read_cpu_times
from ._implementations import Impl
from ._info import info
from ._registry import WORKLOADS, Problem
from ._stats import MedianInterval, median_interval
from ._validate import Mode
from .gil_timeline import gil_unreadable_reason, record_gil
from .heartbeat import HeartbeatProbe
from .kernels import L2_CACHE_BYTES
from .report import OWN_GIL_WORKERS, Cell, Report
from .verdict import HELD_SPEEDUP_LIMIT, INTERVAL_TARGET, GilReading

#: (kernel, impl, mode): the cells that share one problem and differ only in workers.
Group = tuple[str, Impl, Mode]

#: How long the GIL sampler watches the most workers (at least two calls): some 1,000 samples. Where every
#: CPU is busy the sampler, which runs at a low priority, samples less often: the reading then goes on until
#: it has READING_SAMPLES, for at most 20 times as long.
READING_SECONDS = 0.25
READING_SAMPLES = 500


@dataclass(frozen=True)
class Timing:
    """How long each group is timed: at least ``min_repeats`` rounds, then until every speedup's interval is
    narrow, each cell has had ``budget_s`` seconds of timed calls, or ``max_repeats`` rounds are done."""

    budget_s: float = 1.0
    min_repeats: int = 8
    max_repeats: int = 60


#: Six rounds are the fewest whose median has a 95% interval (gilkit._stats).
QUICK = Timing(budget_s=0.8, min_repeats=6, max_repeats=40)


#: The modes that run one impl only: OpenMP a prange inside one nogil call, isolated interpreters the
#: pure-Python twins (gilkit._validate says why).
ONLY_IMPL: dict[Mode, Impl] = {"openmp": "native", "interpreters": "python"}


def groups_to_run(kernel_names: Sequence[str], impls: Sequence[Impl], modes: Sequence[Mode]) -> list[Group]:
    """Every (kernel, impl, mode) that makes sense (ONLY_IMPL)."""
    return [
        (kernel, impl, mode)
        for kernel in kernel_names
        for mode in modes
        for impl in impls
        if ONLY_IMPL.get(mode, impl) == impl
    ]


def paired_speedup(single_s: Sequence[float], times_s: Sequence[float]) -> MedianInterval:
    """The speedup over one worker from times taken in the same rounds: the median of the pairs' ratios,
    with its 95% interval."""
    return median_interval([one / many for one, many in zip(single_s, times_s, strict=True)])


@dataclass
class Trial:
    """One (kernel, impl, mode) being timed: ``run(workers)`` times one call; its rounds so far, each worker
    count's times round by round; what other programs took of the CPUs meanwhile; and whether the GIL was
    held (which bounds its speedup)."""

    run: Callable[[int], float]
    counts: Sequence[int]
    held: bool = False
    #: The bytes one call reads and writes (Problem.data_bytes): whether one worker's data fits a cache.
    data_bytes: int = 0
    times_s: dict[int, list[float]] = field(default_factory=dict)
    spent_s: float = 0.0
    #: CPU seconds other programs took during its rounds, of the CPU seconds the usable CPUs had.
    others_s: float = 0.0
    capacity_s: float = 0.0

    def __post_init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.times_s = {count: [] for count in self.counts}
        self.spent_s = self.others_s = self.capacity_s = 0.0

    @property
    def rounds(self) -> int:
        return len(self.times_s[1])

    @property
    def others_busy(self) -> float | None:
        """The share of the CPUs other programs took during its rounds (None: not read)."""
        return min(1.0, self.others_s / self.capacity_s) if self.capacity_s > 0 else None

    def speedups(self) -> dict[int, MedianInterval]:
        return {count: paired_speedup(self.times_s[1], times) for count, times in self.times_s.items() if count > 1}

    def time_round(self) -> None:
        """One round: every worker count once, the order reversed every other round."""
        before = read_cpu_times()
        for count in self.counts if self.rounds % 2 == 0 else self.counts[::-1]:
            self.times_s[count].append(self.run(count))
            self.spent_s += self.times_s[count][-1]
        load = others_busy_seconds(before, read_cpu_times())
        if load is not None:
            self.others_s += load[0]
            self.capacity_s += load[1]

    def done(self, timing: "Timing") -> bool:
        if self.rounds < timing.min_repeats:
            return False
        narrow = all(s.relative_half_width <= INTERVAL_TARGET for s in self.speedups().values())
        return narrow or self.rounds >= timing.max_repeats or self.spent_s >= timing.budget_s * len(self.counts)

    def beyond_bounds(self) -> dict[int, MedianInterval]:
        """The worker counts whose speedup's whole interval lies above what they can do: their count, or
        HELD_SPEEDUP_LIMIT where the GIL was held."""
        return {count: found for count, found in self.speedups().items()
                if found.low > (HELD_SPEEDUP_LIMIT if self.held else count)}


def time_rounds(trials: Sequence[Trial], timing: Timing) -> None:
    """Sweeps of one round of every trial that is not done yet, until all are (Trial.done)."""
    left = list(trials)
    while left:
        for trial in left:
            trial.time_round()
        left = [trial for trial in left if not trial.done(timing)]


def time_within_bounds(trials: Sequence[Trial], timing: Timing) -> dict[int, dict[int, str]]:
    """time_rounds, and the trials whose speedups broke a physical bound beyond their interval timed once
    more from the start; for those that broke it again, by trial index and worker count, why, as far as
    gilkit can tell."""
    time_rounds(trials, timing)
    suspects = [trial for trial in trials if trial.beyond_bounds()]
    for trial in suspects:
        trial.restart()  # a passing disturbance does not come back
    time_rounds(suspects, timing)
    flags = {}
    for index, trial in enumerate(trials):
        if trial in suspects and (persisting := trial.beyond_bounds()):
            flags[index] = {count: _why(found, count, trial.held, trial.data_bytes)
                            for count, found in persisting.items()}
    return flags


def prepare(kernel: str, impl: Impl, mode: Mode, workers: Sequence[int], *, quick: bool,
            problems: dict[tuple[str, int], Problem]) -> tuple[Trial, list[Cell]]:
    """Steps 1 and 2 for one (kernel, impl, mode): its problem (from ``problems``, which impls of one size
    share, since every trial keeps its problem until the rounds end), the cells (one per worker count, and
    one for 1 worker, what every speedup is measured against) with their heartbeats and GIL reading, and the
    trial that will time them."""
    workload = WORKLOADS[kernel]
    size = workload.size(impl, quick)
    if (kernel, size) not in problems:
        problems[(kernel, size)] = workload.problem(size)
    problem = problems[(kernel, size)]
    counts = sorted(set(workers) | {1})

    def run(count: int) -> float:
        start = time.perf_counter()
        problem.call(impl=impl, workers=count, mode=mode)
        return time.perf_counter() - start

    cells = [Cell(kernel, impl, mode, count, size, workload.unit, problem.items) for count in counts]
    for cell in cells:
        with HeartbeatProbe() as probe:
            run(cell.workers)
        cell.heartbeat_median_ms, cell.heartbeat_max_ms = probe.median_ms, probe.max_ms
        cell.heartbeat_control_median_ms, cell.gil_median_ms = probe.control_median_ms, probe.gil_median_ms
    most = cells[-1]
    if mode not in OWN_GIL_WORKERS:
        most.gil_reading = read_gil(problem, impl, mode, most.workers)
    held = most.gil_reading is not None and not most.gil_reading.released
    return Trial(run, counts, held, problem.data_bytes), cells


def read_gil(problem: Problem, impl: Impl, mode: Mode, workers: int) -> GilReading | None:
    """The sampler's reading while ``workers`` workers run the problem, for at least READING_SECONDS and two
    calls; None where the GIL cannot be read.

    The workers are this thread, which calls the kernel and runs chunks too, and helpers from the
    executor's team, which every call shares: a call's helpers are whichever were idle, so over several
    calls more threads than ``workers`` take turns as helpers. Their time holding the GIL is shared out
    over the ``workers - 1`` helper places, after this thread's own share. In OpenMP mode, whose chunks
    run out of the executor's sight, every thread is read."""
    if gil_unreadable_reason() is not None:
        return None
    with record_gil(label=f"{impl} on {workers} workers") as recorder:
        start, calls = time.perf_counter(), 0

        def more() -> bool:
            spent = time.perf_counter() - start
            return (calls < 2 or spent < READING_SECONDS
                    or recorder.samples_taken < READING_SAMPLES and spent < 20 * READING_SECONDS)

        while more():
            problem.call(impl=impl, workers=workers, mode=mode)
            calls += 1
    found = recorder.timeline
    caller = threading.get_native_id()
    helpers = {chunk.tid for chunk in found.chunks} - {caller}
    reading = found.reading([caller, *helpers] if helpers else None)
    if reading is None or not helpers:
        return reading
    helper_seconds = sum(found.lane(tid).share("holding") * found.lane(tid).seen_s for tid in helpers)
    places = [helper_seconds / found.duration_s / (workers - 1)] * (workers - 1)
    return dataclasses.replace(reading, held_shares=(found.lane(caller).share("holding"), *places))


def _why(found: MedianInterval, workers: int, held: bool, data_bytes: int) -> str:
    """Why a speedup beyond its bound persisted, as far as gilkit can tell."""
    measured = f"{found.median:.2f}x ({found.low:.2f}-{found.high:.2f}) twice"
    if held:
        return (f"{measured}, yet the GIL was held: not parallelism; the 1-worker runs were slowed by "
                "something else (the machine's load or clock changed between them)")
    if L2_CACHE_BYTES and data_bytes > L2_CACHE_BYTES >= data_bytes / workers:
        return (f"{measured}: one worker's data ({data_bytes / 2**20:.1f} MiB) does not fit one core's "
                f"L2 cache ({L2_CACHE_BYTES / 2**20:.1f} MiB), each of {workers} workers' shares does")
    return (f"{measured}, above {workers} workers: not explained by the cores; the 1-worker runs were slowed "
            "by something else (the machine's load, or a clock that changed its speed)")


def derive(cells: list[Cell]) -> list[Cell]:
    """Fill speedup (the paired median over 1 worker of the same kernel, impl and mode, with its interval),
    efficiency and vs_python."""
    by_key = {(c.kernel, c.impl, c.mode, c.workers): c for c in cells}
    for c in cells:
        single = by_key.get((c.kernel, c.impl, c.mode, 1))
        if single is not None:
            found = paired_speedup(single.times_s, c.times_s)
            c.speedup, c.speedup_low, c.speedup_high = found.median, found.low, found.high
            # Interference (other processes, a busy host) only ever slows a run down, so the best times
            # are the least disturbed: on a noisy machine this ratio shows what the hardware can do.
            c.speedup_best = min(single.times_s) / min(c.times_s)
            c.efficiency = c.speedup / c.workers
        python = by_key.get((c.kernel, "python", c.mode, c.workers)) or by_key.get((c.kernel, "python", "threads", 1))
        if python is not None:
            c.vs_python = c.throughput / python.throughput
    return cells


def run_bench(kernel_names: Sequence[str], impls: Sequence[Impl], workers: Sequence[int], modes: Sequence[Mode], *,
              quick: bool = False, timing: Timing = Timing(),
              progress: Callable[[int, int, str | None], None] | None = None) -> list[Cell]:
    """Measure every cell; ``progress(done, total, step)`` is called before each step (the warm-up and GIL
    reading of each (kernel, impl, mode), then the timed rounds of all), and with None at the end."""
    groups = groups_to_run(kernel_names, impls, modes)
    trials: list[Trial] = []
    cells: list[list[Cell]] = []
    problems: dict[tuple[str, int], Problem] = {}
    for done, group in enumerate(groups):
        if progress is not None:
            progress(done, len(groups) + 1, " ".join(group))
        trial, group_cells = prepare(*group, workers, quick=quick, problems=problems)
        trials.append(trial)
        cells.append(group_cells)
    if progress is not None:
        progress(len(groups), len(groups) + 1, "timed rounds, every cell in turn")
    flags = time_within_bounds(trials, timing)
    for index, (trial, group_cells) in enumerate(zip(trials, cells, strict=True)):
        for cell in group_cells:
            cell.times_s, cell.others_busy = trial.times_s[cell.workers], trial.others_busy
            cell.flag = flags.get(index, {}).get(cell.workers)
    if progress is not None:
        progress(len(groups) + 1, len(groups) + 1, None)
    return derive([cell for group_cells in cells for cell in group_cells])


def to_report(cells: list[Cell], *, quick: bool) -> Report:
    """The run as a report: the cells, and what they ran on."""
    return Report({**info(), "quick": quick}, cells)
