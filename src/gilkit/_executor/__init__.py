"""Run a kernel's fixed chunks inline, on helper threads, on a process pool, in one OpenMP call, or in
isolated subinterpreters.

A kernel describes its work as a :class:`Job` (job.py): the arrays its chunk function reads and writes,
the scalar parameters, the chunks, and how chunk results fold into one (in chunk order). Each strategy is
a module: threads.py (inline and the helper team), openmp.py, processes.py (pools and shared memory),
interpreters.py (a GIL each).
Chunks are produced and folded as the work goes, so a call's memory does not grow with its number of
chunks, and every chunk function polls its call's cancel flag (gilkit._cancel).
"""

import atexit
from typing import Any

from .._cancel import cancellation
from .._implementations import Impl, chunk_function
from .._validate import Mode
from . import threads
from .interpreters import POOL as INTERPRETERS
from .interpreters import run_interpreters
from .job import ChunkPlan, Chunks, Job
from .openmp import run_openmp
from .processes import POOLS, default_start_method, get_start_method, run_processes, set_start_method
from .threads import TEAM, ChunkLog, logging_chunks

__all__ = ["ChunkLog", "ChunkPlan", "Chunks", "Job", "default_start_method", "get_start_method", "logging_chunks",
           "run", "set_start_method", "shutdown"]


def run(job: Job, impl: Impl, workers: int, mode: Mode) -> Any:
    """The chunk results folded in chunk order (``job.initial`` when the chunks only write arrays)."""
    with cancellation() as cancel:
        if mode == "openmp":
            return run_openmp(job, workers, cancel)
        if mode == "processes":
            return run_processes(job, impl, workers)
        if mode == "interpreters":
            return run_interpreters(job, workers)
        fn = chunk_function(impl, job.module, job.function)
        log = threads.chunk_log
        if log is not None:
            fn = log.timed(fn, job.function)
        args = (*(array.data for array in job.arrays), *job.params)
        if workers == 1 or len(job.chunks) <= 1:
            return threads.run_inline(fn, args, job, cancel)
        queue = threads.ChunkQueue(fn, args, job.chunks, cancel, job.fold, job.initial)
        return TEAM.run(queue, helpers=min(workers, len(job.chunks)) - 1)


def shutdown() -> None:
    """End gilkit's helper threads, worker processes and worker interpreters (they start again when a call
    needs them).

    Runs at interpreter exit too. Calls still running on a process pool finish first.
    """
    TEAM.shutdown()
    POOLS.retire_all()
    INTERPRETERS.shutdown()


atexit.register(shutdown)
