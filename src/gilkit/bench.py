"""Time every (kernel, impl, mode, workers) cell and derive speedups: the engine behind `gilkit bench`.

Each impl gets a problem sized so one call takes a comparable, bounded time (the pure-Python twin a
smaller one), so impls are compared by throughput (items per second) and workers by speedup. The
compiled sizes give each cell about 50-200 ms on the avx512 variant (a few times that on the
baseline), long enough for the heartbeat to see who holds the GIL.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._implementations import Impl
from ._info import info
from ._registry import WORKLOADS
from ._validate import Mode
from .heartbeat import HeartbeatProbe
from .report import Cell, Report

#: (kernel, impl, mode): the cells that share one problem and differ only in workers.
Group = tuple[str, Impl, Mode]


@dataclass(frozen=True)
class Timing:
    """How long each cell is timed: rounds until ``min_repeats`` are done and each cell has had ``budget_s``
    seconds, or ``max_repeats`` rounds are done."""

    budget_s: float = 1.0
    min_repeats: int = 3
    max_repeats: int = 15


QUICK = Timing(budget_s=0.3, min_repeats=2, max_repeats=5)


def groups_to_run(kernel_names: Sequence[str], impls: Sequence[Impl], modes: Sequence[Mode]) -> list[Group]:
    """Every (kernel, impl, mode) that makes sense: OpenMP runs only the native impl."""
    return [
        (kernel, impl, mode)
        for kernel in kernel_names
        for mode in modes
        for impl in impls
        if mode != "openmp" or impl == "native"
    ]


def measure(kernel: str, impl: Impl, mode: Mode, workers: Sequence[int], *, quick: bool = False,
            timing: Timing = Timing()) -> list[Cell]:
    """The cells of one (kernel, impl, mode), one per worker count, on the same problem.

    Each cell gets a warm-up call under a HeartbeatProbe (the GIL column). Then the timed calls go
    round-robin over the worker counts, so a slow drift of the machine hits every cell alike and the
    speedups stay honest, for as long as ``timing`` says.
    """
    workload = WORKLOADS[kernel]
    size = workload.size(impl, quick)
    problem = workload.problem(size)
    call = problem.call
    cells = [Cell(kernel, impl, mode, count, size, workload.unit, problem.items) for count in workers]
    for cell in cells:
        with HeartbeatProbe() as probe:
            call(impl=impl, workers=cell.workers, mode=mode)
        cell.heartbeat_median_ms, cell.heartbeat_max_ms = probe.median_ms, probe.max_ms
        cell.heartbeat_control_median_ms, cell.gil_median_ms = probe.control_median_ms, probe.gil_median_ms
    rounds, spent = 0, 0.0
    while rounds < timing.max_repeats and (rounds < timing.min_repeats or spent < timing.budget_s * len(cells)):
        for cell in cells:
            start = time.perf_counter()
            call(impl=impl, workers=cell.workers, mode=mode)
            cell.times_s.append(time.perf_counter() - start)
            spent += cell.times_s[-1]
        rounds += 1
    return cells


def derive(cells: list[Cell]) -> list[Cell]:
    """Fill speedup (vs 1 worker of the same kernel, impl and mode), efficiency and vs_python."""
    by_key = {(c.kernel, c.impl, c.mode, c.workers): c for c in cells}
    for c in cells:
        single = by_key.get((c.kernel, c.impl, c.mode, 1))
        if single is not None:
            c.speedup = single.median_s / c.median_s
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
              progress: Callable[[int, int, Group | None], None] | None = None) -> list[Cell]:
    """Measure every cell; ``progress(done, total, group)`` is called before each (kernel, impl, mode)."""
    groups = groups_to_run(kernel_names, impls, modes)
    cells: list[Cell] = []
    for done, group in enumerate(groups):
        if progress is not None:
            progress(done, len(groups), group)
        cells += measure(*group, workers, quick=quick, timing=timing)
    if progress is not None:
        progress(len(groups), len(groups), None)
    return derive(cells)


def to_report(cells: list[Cell], *, quick: bool) -> Report:
    """The run as a report: the cells, and what they ran on."""
    return Report({**info(), "quick": quick}, cells)
