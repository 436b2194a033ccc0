"""Run a kernel's fixed chunks inline, on helper threads, on a process pool, or in one OpenMP call.

A kernel describes its work as a :class:`Job`: the arrays its chunk function reads and writes, the
scalar parameters, the chunks, and how chunk results fold into one (in chunk order). The chunking is
fixed by the problem size, never by the number of workers, so every (impl, workers, mode) gives the
same answer. Chunks are produced and folded as the work goes, so a call's memory does not grow with its
number of chunks, and every chunk function polls its call's cancel flag (gilkit._cancel).
"""

import atexit
import collections
import contextlib
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from . import _shared
from ._cancel import cancellation
from ._implementations import OPENMP_ENABLED, Impl, chunk_function, native_module
from ._validate import Mode

#: A chunk function: fn(*arrays, *params, start, stop, cancel) -> the chunk's result (or None).
ChunkFunction = Callable[..., Any]
#: fold(folded so far, next chunk's result) -> folded.
Fold = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Chunks:
    """(start, start + size), (start + size, start + 2*size), ... up to stop: a split that depends only on the
    problem, made on demand. A part of a problem (one task of gilkit.dask) starts where its first chunk does."""

    stop: int
    size: int
    start: int = 0

    def __len__(self) -> int:
        return max(0, -(-(self.stop - self.start) // self.size))

    def __getitem__(self, index: int) -> tuple[int, int]:
        first = self.start + index * self.size
        return first, min(first + self.size, self.stop)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return (self[index] for index in range(len(self)))


def _keep(folded: Any, value: Any) -> Any:
    """The fold of a job whose chunks only write arrays: nothing to combine."""
    return folded


@dataclass(frozen=True)
class Job:
    """One kernel call: ``function(*arrays, *params, start, stop, cancel)`` for every (start, stop) in chunks."""

    kernel: str
    function: str
    chunks: Chunks
    arrays: tuple[np.ndarray, ...] = ()
    params: tuple[Any, ...] = ()
    #: Indices into ``arrays`` that the chunks write (copied back from shared memory in process mode).
    outputs: tuple[int, ...] = ()
    #: NumPy dtype of each chunk's return value, or None when the chunks only write arrays.
    chunk_result: type[np.generic] | None = None
    #: The chunk results folded in chunk order: fold(...fold(fold(initial, r0), r1)..., r_last).
    fold: Fold = _keep
    initial: Any = None

    def __post_init__(self) -> None:
        # The chunk functions index raw buffers. An input at an odd address (as Dask's transfers deliver
        # them) has a buffer format such as "=d" that a Python memoryview cannot index, and C should not
        # read a number from it: such an input is copied. Outputs are the kernels' own fresh arrays.
        arrays = tuple(array if index in self.outputs else np.require(array, requirements=["C", "A"])
                       for index, array in enumerate(self.arrays))
        object.__setattr__(self, "arrays", arrays)


class ChunkLog:
    """The chunks run on this process's threads while the log is installed (gilkit.gil_timeline does):
    (native thread id, kernel, start, stop) on time.perf_counter's clock. ``timer(fn, args)`` returns
    ``(fn(*args), start, stop)`` with both times taken in compiled code right around the call, so that no
    GIL switch falls between a time and the chunk."""

    def __init__(self, timer: Callable[[ChunkFunction, tuple[Any, ...]], tuple[Any, float, float]]) -> None:
        self.timer = timer
        self.spans: list[tuple[int, str, float, float]] = []

    def timed(self, fn: ChunkFunction, kernel: str) -> ChunkFunction:
        def timed_chunk(*args: Any) -> Any:
            value, start, stop = self.timer(fn, args)
            self.spans.append((threading.get_native_id(), kernel, start, stop))
            return value

        return timed_chunk


_chunk_log: ChunkLog | None = None


@contextlib.contextmanager
def logging_chunks(log: ChunkLog) -> Iterator[ChunkLog]:
    """Log every chunk that runs inline or on threads (process and OpenMP chunks run out of sight)."""
    global _chunk_log
    if _chunk_log is not None:
        raise RuntimeError("chunks are already being logged (one GIL timeline records at a time)")
    _chunk_log = log
    try:
        yield log
    finally:
        _chunk_log = None


def run(job: Job, impl: Impl, workers: int, mode: Mode) -> Any:
    """The chunk results folded in chunk order (``job.initial`` when the chunks only write arrays)."""
    with cancellation() as cancel:
        if mode == "openmp":
            return _run_openmp(job, workers, cancel)
        if mode == "processes":
            return _run_processes(job, impl, workers)
        fn = chunk_function(impl, job.kernel, job.function)
        log = _chunk_log
        if log is not None:
            fn = log.timed(fn, job.kernel)
        args = (*(array.data for array in job.arrays), *job.params)
        if workers == 1 or len(job.chunks) <= 1:
            return _run_inline(fn, args, job, cancel)
        queue = _ChunkQueue(fn, args, job.chunks, cancel, job.fold, job.initial)
        return _TEAM.run(queue, helpers=min(workers, len(job.chunks)) - 1)


def _run_inline(fn: ChunkFunction, args: tuple[Any, ...], job: Job, cancel: memoryview) -> Any:
    """The chunks one after another on the calling thread: no lock, no queue."""
    folded = job.initial
    for start, stop in job.chunks:
        folded = job.fold(folded, fn(*args, start, stop, cancel))
    return folded


class _ChunkQueue:
    """One call's chunks, taken in turn from a shared counter by the calling thread and its helpers,
    their results folded in chunk order as they arrive; the first error raises the call's cancel flag,
    so the other chunks stop early."""

    def __init__(self, fn: ChunkFunction, args: tuple[Any, ...], chunks: Chunks, cancel: memoryview,
                 fold: Fold = _keep, initial: Any = None) -> None:
        self._fn = fn
        self._args = args
        self._chunks = chunks
        self._cancel = cancel
        self._fold = fold
        self._folded = initial
        self._pending: dict[int, Any] = {}  # results that arrived before an earlier chunk's
        self._next_fold = 0
        self._next = 0
        self._unfinished = len(chunks)
        self._lock = threading.Lock()
        # Held until the call is over; a plain lock is the cheapest thing to wait on (and Ctrl-C interrupts it).
        self._running = threading.Lock()
        self._running.acquire()
        self.error: BaseException | None = None

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= len(self._chunks) or self.error is not None:
                return None
            self._next += 1
            return self._next - 1

    def _done(self, index: int, value: Any = None, error: BaseException | None = None) -> None:
        with self._lock:
            self._unfinished -= 1
            if error is None:
                self._pending[index] = value
                while self._next_fold in self._pending:
                    self._folded = self._fold(self._folded, self._pending.pop(self._next_fold))
                    self._next_fold += 1
            self._fail(error)

    def _fail(self, error: BaseException | None) -> None:
        """Record the first error (if any); called with the lock held."""
        if error is not None and self.error is None:
            self.error = error
            self._cancel[0] = 1
        # After an error the untaken chunks never finish: the call is over once the taken ones are.
        if self._unfinished == 0 or (self.error is not None and self._unfinished == len(self._chunks) - self._next):
            if self._running.locked():
                self._running.release()

    def drain(self) -> None:
        while (index := self._take()) is not None:
            try:
                value = self._fn(*self._args, *self._chunks[index], self._cancel)
            except BaseException as exc:
                self._done(index, error=exc)
                return
            self._done(index, value)

    def wait(self) -> None:
        try:
            self._running.acquire()
        except BaseException as exc:  # Ctrl-C while waiting: the helpers' chunks stop early
            with self._lock:
                self._fail(exc)
            raise

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self._folded


class _Team:
    """Helper threads shared by every call, as many as the largest call has wanted: a call posts its
    queue, wakes as many helpers as it wants, and drains the queue itself too, so a small call need not
    wait for any helper to wake up, and a call whose helpers are busy elsewhere still progresses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._posted: collections.deque[list[Any]] = collections.deque()  # [queue, helpers still wanted]
        self.threads = 0
        self._generation = 0  # shutdown() starts a new one: the helpers of the old one exit

    def run(self, queue: _ChunkQueue, helpers: int) -> Any:
        entry = [queue, helpers]
        with self._lock:
            self._posted.append(entry)
            while self.threads < helpers:
                self.threads += 1
                threading.Thread(target=self._help, args=(self._generation,), name=f"gilkit-helper-{self.threads}",
                                 daemon=True).start()
            self._wakeup.notify(helpers)
        try:
            queue.drain()
        finally:
            with self._lock:
                if entry in self._posted:
                    self._posted.remove(entry)  # every chunk is taken: late helpers need not look
        queue.wait()
        return queue.result()

    def shutdown(self) -> None:
        """Let every helper exit once it is idle; the next call that wants helpers starts new ones."""
        with self._lock:
            self._generation += 1
            self.threads = 0
            self._wakeup.notify_all()

    def _help(self, generation: int) -> None:
        while True:
            with self._lock:
                while not self._posted and generation == self._generation:
                    self._wakeup.wait()
                if generation != self._generation:
                    return
                entry = self._posted[0]
                entry[1] -= 1
                if entry[1] == 0:
                    self._posted.popleft()
            entry[0].drain()


_TEAM = _Team()

# --- OpenMP --------------------------------------------------------------------------------------

#: Chunks per OpenMP call: the chunk bounds travel as arrays, so a huge call goes in batches.
OPENMP_BATCH = 1 << 16


def _run_openmp(job: Job, workers: int, cancel: memoryview) -> Any:
    module = native_module(job.kernel)  # without the extensions at all, say how to build them
    if not OPENMP_ENABLED:
        raise RuntimeError(
            "mode='openmp' is unavailable: this build of gilkit was compiled without OpenMP "
            "(`gilkit info` says why); use mode='threads' instead"
        )
    fn = getattr(module, job.function + "_openmp")
    folded = job.initial
    chunks = job.chunks
    for first in range(0, len(chunks), OPENMP_BATCH):
        starts = chunks.start + np.arange(first, min(first + OPENMP_BATCH, len(chunks)), dtype=np.int64) * chunks.size
        stops = np.minimum(starts + chunks.size, chunks.stop)
        threads = min(workers, len(starts))  # never more threads than chunks
        if job.chunk_result is None:
            fn(*job.arrays, *job.params, starts, stops, threads, cancel)
            continue
        results = np.zeros(len(starts), dtype=job.chunk_result)
        fn(*job.arrays, *job.params, starts, stops, results, threads, cancel)
        for value in results.tolist():
            folded = job.fold(folded, value)
    return folded


# --- processes -----------------------------------------------------------------------------------

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
            if pool is not None and (pool._broken or _size(pool) < workers or _has_dead_worker(pool)):
                self._retire(method)
                pool = None
            if pool is None:
                pool = ProcessPoolExecutor(max(workers, self._sizes.get(method, 0)), initializer=_worker_start,
                                           mp_context=multiprocessing.get_context(method), initargs=(os.getpid(),))
                self._current[method] = pool
                self._sizes[method] = _size(pool)
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
        for process in list((pool._processes or {}).values()):
            process.kill()
        # Wait for the manager thread (quick: its workers are dead), or at exit 3.11's concurrent.futures
        # may write to its wake-up pipe while it closes it. Cancelling futures here would race it too.
        pool.shutdown(wait=True)


def _size(pool: ProcessPoolExecutor) -> int:
    return pool._max_workers  # type: ignore[attr-defined]  # set by __init__, missing from typeshed


def _has_dead_worker(pool: ProcessPoolExecutor) -> bool:
    return any(not process.is_alive() for process in (pool._processes or {}).values())


_POOLS = _ProcessPools()
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
    _POOLS.retire_all()


def get_start_method() -> str:
    """The start method mode='processes' uses now."""
    return _start_method or default_start_method()


def shutdown() -> None:
    """End gilkit's helper threads and worker processes (they start again when a call needs them).

    Runs at interpreter exit too. Calls still running on a process pool finish first.
    """
    _TEAM.shutdown()
    _POOLS.retire_all()


atexit.register(shutdown)


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


def _run_processes(job: Job, impl: Impl, workers: int) -> Any:
    chunk_function(impl, job.kernel, job.function)  # a missing native build fails here, clearly, not in a worker
    workers = max(1, min(workers, len(job.chunks)))  # never more processes than chunks
    segments: list[tuple[np.ndarray, shared_memory.SharedMemory]] = []  # for arrays not in a shared_array
    specs: list[tuple[str, int, str, tuple[int, ...]]] = []
    try:
        for array in job.arrays:
            location = _shared.locate(array)
            if location is None:
                segment = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
                segments.append((array, segment))
                np.ndarray(array.shape, array.dtype, buffer=segment.buf)[...] = array
                location = (segment.name, 0)
            specs.append((*location, array.dtype.str, array.shape))
        per_task = max(1, min(MAX_CHUNKS_PER_TASK, -(-len(job.chunks) // (TASKS_PER_PROCESS * workers))))
        tasks = ((impl, job.kernel, job.function, tuple(specs), job.params, job.chunks, first,
                  min(first + per_task, len(job.chunks))) for first in range(0, len(job.chunks), per_task))
        with _POOLS.lease(get_start_method(), workers) as pool:
            try:
                # At most `workers` tasks at once: a shared pool may have more processes than this call asked for.
                folded = _fold_tasks(pool, tasks, workers, job.fold, job.initial)
            except BrokenProcessPool as exc:
                _POOLS.discard(pool)
                raise RuntimeError(
                    f"a gilkit worker process died while running {job.kernel} (killed, or crashed); "
                    "the pool was discarded and the next call starts a new one"
                ) from exc
            except BaseException:  # Ctrl-C (or any error): the workers' chunks cannot be stopped, only ended
                _POOLS.discard(pool)
                raise
        outputs = [job.arrays[index] for index in job.outputs]
        for array, segment in segments:
            if any(array is output for output in outputs):
                array[...] = np.ndarray(array.shape, array.dtype, buffer=segment.buf)
        return folded
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


def _process_chunks(impl: Impl, kernel: str, function: str, specs: tuple[tuple[str, int, str, tuple[int, ...]], ...],
                    params: tuple[Any, ...], chunks: Chunks, first: int, stop: int) -> list[Any]:
    """Runs in a worker process: attach the shared arrays, run chunks first .. stop-1, detach."""
    fn = chunk_function(impl, kernel, function)
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
