"""Chunks on a pool of worker processes (one pool per start method, shared by every call), the arrays in
shared memory, never pickled."""

import collections
import contextlib
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from .. import _shared_memory
from .._arithmetic import ceil_div
from .._implementations import Impl, chunk_function
from .job import Chunks, Fold, Job

#: Process-pool tasks per worker: each task carries a run of consecutive chunks, so the pipe is crossed
#: a few times per call rather than once per chunk, and a worker that finishes early takes another run.
TASKS_PER_PROCESS = 4
#: At most this many chunks a task: bounded memory for any call.
MAX_CHUNKS_PER_TASK = 1 << 12

class _ProcessPools:
    """One process pool per start method, as large as the largest call has wanted, shared by every call.

    A call leases the pool for its duration. A pool that is replaced (to grow, after a worker died, or
    by set_start_method) is shut down only when the last call using it has finished, so no running
    call is cancelled from under it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[str, ProcessPoolExecutor] = {}  # start method -> pool
        self._sizes: dict[str, int] = {}  # start method -> the most workers wanted: a replacement is as large
        self._users: collections.Counter[ProcessPoolExecutor] = collections.Counter()
        self._retired: set[ProcessPoolExecutor] = set()

    @contextlib.contextmanager
    def lease(self, method: str, workers: int) -> Iterator[ProcessPoolExecutor]:
        with self._lock:
            pool = self._current.get(method)
            if pool is not None and (_PoolInternals.broken(pool) or _PoolInternals.size(pool) < workers
                                     or _PoolInternals.has_dead_worker(pool)):
                self._retire(method)
                pool = None
            if pool is None:
                pool = ProcessPoolExecutor(max(workers, self._sizes.get(method, 0)), initializer=_worker_start,
                                           mp_context=multiprocessing.get_context(method), initargs=(os.getpid(),))
                self._current[method] = pool
                self._sizes[method] = _PoolInternals.size(pool)
            self._users[pool] += 1
        try:
            yield pool
        finally:
            with self._lock:
                self._users[pool] -= 1
                if pool in self._retired and not self._users[pool]:
                    self._end(pool)

    def current(self, method: str) -> ProcessPoolExecutor | None:
        with self._lock:
            return self._current.get(method)

    def retire_all(self) -> None:
        with self._lock:
            for method in list(self._current):
                self._retire(method)

    def discard(self, pool: ProcessPoolExecutor) -> None:
        """A pool whose worker died mid-call: no new call gets it; it ends with its last call."""
        with self._lock:
            for method, current in list(self._current.items()):
                if current is pool:
                    self._retire(method)

    def _retire(self, method: str) -> None:
        pool = self._current.pop(method)
        self._retired.add(pool)
        if not self._users[pool]:
            self._end(pool)

    def _end(self, pool: ProcessPoolExecutor) -> None:
        """Kill the workers, then shut down. Python 3.11's broken pool leaves its other workers waiting for
        tasks that never come, and its manager thread joins them forever: the interpreter would hang at exit."""
        self._retired.discard(pool)
        del self._users[pool]
        for process in _PoolInternals.processes(pool):
            process.kill()
        # Wait for the manager thread (quick: its workers are dead), or at exit 3.11's concurrent.futures
        # may write to its wake-up pipe while it closes it. Cancelling futures here would race it too.
        pool.shutdown(wait=True)


class _PoolInternals:
    """What gilkit reads of a ProcessPoolExecutor that its public API does not say, in one place: the code
    most likely to break on a new Python. Checked on CPython 3.11, 3.12, 3.13 and 3.13t."""

    @staticmethod
    def size(pool: ProcessPoolExecutor) -> int:
        # _max_workers: set by __init__ since 3.2; missing from typeshed.
        return pool._max_workers  # type: ignore[attr-defined]

    @staticmethod
    def broken(pool: ProcessPoolExecutor) -> bool:
        # _broken: False, or the reason a worker died, since 3.8 (BrokenProcessPool is raised from it).
        return bool(pool._broken)

    @staticmethod
    def processes(pool: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
        # _processes: pid -> Process, None once shut down, since 3.2; 3.13 still has it.
        return list((pool._processes or {}).values())

    @classmethod
    def has_dead_worker(cls, pool: ProcessPoolExecutor) -> bool:
        return any(not process.is_alive() for process in cls.processes(pool))


POOLS = _ProcessPools()
_start_method: str | None = None


def default_start_method() -> str:
    """forkserver where the platform has it, else spawn: fork is unsafe once threads exist."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def set_start_method(method: str | None = None) -> None:
    """Choose how mode='processes' starts its workers ('spawn', 'forkserver', 'fork'; None: the default).

    Pools started with another method end once the calls running on them have finished.
    """
    if method is not None and method not in multiprocessing.get_all_start_methods():
        raise ValueError(
            f"method must be one of {', '.join(map(repr, multiprocessing.get_all_start_methods()))} or None; "
            f"got {method!r}"
        )
    global _start_method
    _start_method = method
    POOLS.retire_all()


def get_start_method() -> str:
    """The start method mode='processes' uses now."""
    return _start_method or default_start_method()


def _worker_start(parent_pid: int) -> None:
    """In each worker: Ctrl-C is the parent's to handle (it ends the workers), and a worker whose parent
    has died exits instead of waiting forever for tasks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()


def _exit_when_orphaned(parent_pid: int) -> None:
    # With forkserver the worker's parent is the fork server, which exits when the caller does.
    parent = os.getppid()
    while os.getppid() == parent and _alive(parent_pid):
        time.sleep(0.5)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_processes(job: Job, impl: Impl, workers: int) -> Any:
    chunk_function(impl, job.module, job.function)  # a missing native build fails here, clearly, not in a worker
    workers = max(1, min(workers, len(job.chunks)))  # never more processes than chunks
    per_task = max(1, min(MAX_CHUNKS_PER_TASK, ceil_div(len(job.chunks), TASKS_PER_PROCESS * workers)))
    with staged(job) as specs, POOLS.lease(get_start_method(), workers) as pool:
        tasks = ((impl, job.module, job.function, specs, job.params, job.chunks, first,
                  min(first + per_task, len(job.chunks))) for first in range(0, len(job.chunks), per_task))
        try:
            # At most `workers` tasks at once: a shared pool may have more processes than this call asked for.
            return _fold_tasks(pool, tasks, workers, job.fold, job.initial)
        except BrokenProcessPool as exc:
            POOLS.discard(pool)
            raise RuntimeError(
                f"a gilkit worker process died while running {job.function} (killed, or crashed); "
                "the pool was discarded and the next call starts a new one"
            ) from exc
        except BaseException:  # Ctrl-C (or any error): the workers' chunks cannot be stopped, only ended
            POOLS.discard(pool)
            raise


#: Where a worker finds an array: (shared memory segment, byte offset, dtype, shape).
ArraySpec = tuple[str, int, str, tuple[int, ...]]


@contextlib.contextmanager
def staged(job: Job) -> Iterator[tuple[ArraySpec, ...]]:
    """The job's arrays in shared memory, for the workers: a shared_array (or a view of one) by its own
    segment, any other array copied into a new one. When the work succeeds, the outputs are copied back;
    the new segments are unlinked whatever happens."""
    segments: list[tuple[np.ndarray, shared_memory.SharedMemory]] = []  # for arrays not in a shared_array
    specs: list[ArraySpec] = []
    try:
        for array in job.arrays:
            location = _shared_memory.locate(array)
            if location is None:
                segment = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
                segments.append((array, segment))
                np.ndarray(array.shape, array.dtype, buffer=segment.buf)[...] = array
                location = (segment.name, 0)
            specs.append((*location, array.dtype.str, array.shape))
        yield tuple(specs)
        outputs = [job.arrays[index] for index in job.outputs]
        for array, segment in segments:
            if any(array is output for output in outputs):
                array[...] = np.ndarray(array.shape, array.dtype, buffer=segment.buf)
    finally:
        for _, segment in segments:
            segment.close()
            segment.unlink()


def _fold_tasks(pool: ProcessPoolExecutor, tasks: Iterator[tuple[Any, ...]], in_flight: int, fold: Fold,
                initial: Any) -> Any:
    """Submit the tasks with at most ``in_flight`` outstanding, folding their results in order.

    On an error the caller ends the pool; the futures still outstanding are not cancelled here: on 3.11
    the pool's manager thread fails them itself and dies of InvalidStateError on one cancelled first.
    """
    futures = collections.deque(_submit(pool, task) for task in itertools.islice(tasks, in_flight))
    folded = initial
    while futures:
        results = futures.popleft().result()
        for task in itertools.islice(tasks, 1):
            futures.append(_submit(pool, task))
        for value in results:
            folded = fold(folded, value)
    return folded


def _submit(pool: ProcessPoolExecutor, task: Iterable[Any]) -> Future[list[Any]]:
    """pool.submit, with SIGINT blocked in this thread meanwhile: a worker that the submit starts inherits
    the blocked signal (across fork and exec alike), so a terminal's Ctrl-C never reaches a worker that
    is still starting, before _worker_start could ignore it. This thread gets it right after."""
    if not hasattr(signal, "pthread_sigmask"):
        return pool.submit(_process_chunks, *task)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return pool.submit(_process_chunks, *task)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _attach(name: str) -> shared_memory.SharedMemory:
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)
    return shared_memory.SharedMemory(name=name)


def _process_chunks(impl: Impl, module: str, function: str, specs: tuple[ArraySpec, ...],
                    params: tuple[Any, ...], chunks: Chunks, first: int, stop: int) -> list[Any]:
    """Runs in a worker process: attach the shared arrays, run chunks first .. stop-1, detach."""
    fn = chunk_function(impl, module, function)
    cancel = np.zeros(1, dtype=np.intc).data  # a worker is ended, not cancelled
    segments = [_attach(name) for name, _, _, _ in specs]
    views = [
        np.ndarray(shape, np.dtype(dtype), buffer=segment.buf, offset=offset).data
        for segment, (_, offset, dtype, shape) in zip(segments, specs, strict=True)
    ]
    try:
        return [fn(*views, *params, *chunks[index], cancel) for index in range(first, stop)]
    finally:
        for view in views:
            view.release()
        for segment in segments:
            segment.close()
