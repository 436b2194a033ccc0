"""Run a kernel's fixed chunks inline, on a thread pool, on a process pool, or in one OpenMP call.

A kernel describes its work as a :class:`Job`: the arrays its chunk function reads and writes, the
scalar parameters, and the chunks. The chunking is fixed by the problem size, never by the number of
workers, and results come back in chunk order, so every (impl, workers, mode) gives the same answer.
"""

import collections
import multiprocessing
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

from . import _shared
from ._compat import OPENMP_ENABLED, chunk_function, native_module


@dataclass(frozen=True)
class Job:
    """One kernel call: ``function(*arrays, *params, start, stop)`` for every (start, stop) in chunks."""

    kernel: str
    function: str
    chunks: tuple
    arrays: tuple = ()
    params: tuple = ()
    #: Indices into ``arrays`` that the chunks write (copied back from shared memory in process mode).
    outputs: tuple = ()
    #: NumPy dtype of each chunk's return value, or None when the chunks only write arrays.
    chunk_result: object = None


def fixed_chunks(total, size):
    """[(0, size), (size, 2*size), ..., (k*size, total)]: a split that depends only on ``total``."""
    return tuple((start, min(start + size, total)) for start in range(0, total, size))


def run(job, impl, workers, mode):
    """Every chunk's return value, in chunk order."""
    if mode == "openmp":
        return _run_openmp(job, workers)
    if mode == "processes":
        return _run_processes(job, impl, workers)
    fn = chunk_function(impl, job.kernel, job.function)
    views = [memoryview(array) for array in job.arrays]
    calls = [(*views, *job.params, start, stop) for start, stop in job.chunks]
    if workers == 1 or len(calls) <= 1:
        return [fn(*args) for args in calls]
    return _TEAM.run(_ChunkQueue(fn, calls), helpers=min(workers, len(calls)) - 1)


class _ChunkQueue:
    """One call's chunks, taken in turn from a shared counter by the calling thread and its helpers;
    the first error stops the others after their current chunk."""

    def __init__(self, fn, calls):
        self._fn = fn
        self._calls = calls
        self.results = [None] * len(calls)
        self._next = 0
        self._unfinished = len(calls)
        self._lock = threading.Lock()
        # Held until the call is over; a plain lock is the cheapest thing to wait on (and Ctrl-C interrupts it).
        self._running = threading.Lock()
        self._running.acquire()
        self.error = None

    def _take(self):
        with self._lock:
            if self._next >= len(self._calls) or self.error is not None:
                return None
            self._next += 1
            return self._next - 1

    def _done(self, error=None):
        with self._lock:
            self._unfinished -= 1
            self._fail(error)

    def _fail(self, error):
        """Record the first error (if any); called with the lock held."""
        if error is not None and self.error is None:
            self.error = error
        # After an error the untaken chunks never finish: the call is over once the taken ones are.
        if self._unfinished == 0 or (self.error is not None and self._unfinished == len(self._calls) - self._next):
            if self._running.locked():
                self._running.release()

    def drain(self):
        while (index := self._take()) is not None:
            try:
                self.results[index] = self._fn(*self._calls[index])
            except BaseException as exc:
                self._done(exc)
                return
            self._done()

    def wait(self):
        try:
            self._running.acquire()
        except BaseException as exc:  # Ctrl-C while waiting: the helpers stop after their current chunk
            with self._lock:
                self._fail(exc)
            raise
        if self.error is not None:
            raise self.error


class _Team:
    """Helper threads shared by every call, as many as the largest call has wanted: a call posts its
    queue, wakes as many helpers as it wants, and drains the queue itself too, so a small call need not
    wait for any helper to wake up, and a call whose helpers are busy elsewhere still progresses."""

    def __init__(self):
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._posted = collections.deque()  # [queue, helpers still wanted]
        self.threads = 0

    def run(self, queue, helpers):
        entry = [queue, helpers]
        with self._lock:
            self._posted.append(entry)
            while self.threads < helpers:
                self.threads += 1
                threading.Thread(target=self._help, name=f"gilkit-helper-{self.threads}", daemon=True).start()
            self._wakeup.notify(helpers)
        try:
            queue.drain()
        finally:
            with self._lock:
                if entry in self._posted:
                    self._posted.remove(entry)  # every chunk is taken: late helpers need not look
        queue.wait()
        return queue.results

    def _help(self):
        while True:
            with self._lock:
                while not self._posted:
                    self._wakeup.wait()
                entry = self._posted[0]
                entry[1] -= 1
                if entry[1] == 0:
                    self._posted.popleft()
            entry[0].drain()


_TEAM = _Team()


#: Process-pool tasks per worker: each task carries a run of consecutive chunks, so the pipe is crossed
#: a few times per call rather than once per chunk, and a worker that finishes early takes another run.
TASKS_PER_PROCESS = 4


def _gather(pool, fn, calls):
    """Each call's result, in order, from tasks of consecutive calls (process workers share no counter)."""
    futures = [pool.submit(fn, *args) for args in calls]
    try:
        return [result for future in futures for result in future.result()]
    except BaseException:
        for future in futures:
            future.cancel()
        raise


# Process pools are created once per size and reused; the lock makes creation safe when several
# threads (or free-threaded interpreters) call kernels at the same time.
_pools_lock = threading.Lock()
_process_pools = {}
_start_method = None


def _run_openmp(job, workers):
    module = native_module(job.kernel)  # without the extensions at all, say how to build them
    if not OPENMP_ENABLED:
        raise RuntimeError(
            "mode='openmp' is unavailable: this build of gilkit was compiled without OpenMP "
            "(`gilkit info` says why); use mode='threads' instead"
        )
    fn = getattr(module, job.function + "_openmp")
    starts = np.array([start for start, _ in job.chunks], dtype=np.int64)
    stops = np.array([stop for _, stop in job.chunks], dtype=np.int64)
    if job.chunk_result is None:
        fn(*job.arrays, *job.params, starts, stops, workers)
        return [None] * len(job.chunks)
    results = np.zeros(len(job.chunks), dtype=job.chunk_result)
    fn(*job.arrays, *job.params, starts, stops, results, workers)
    return results.tolist()


# --- processes -----------------------------------------------------------------------------------


def default_start_method():
    """forkserver where the platform has it, else spawn: fork is unsafe once threads exist."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def set_start_method(method=None):
    """Choose how mode='processes' starts its workers ('spawn', 'forkserver', 'fork'; None: the default).

    Pools started with another method are shut down.
    """
    if method is not None and method not in multiprocessing.get_all_start_methods():
        raise ValueError(
            f"method must be one of {', '.join(map(repr, multiprocessing.get_all_start_methods()))} or None; "
            f"got {method!r}"
        )
    global _start_method
    with _pools_lock:
        _start_method = method
        pools = list(_process_pools.values())
        _process_pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def get_start_method():
    """The start method mode='processes' uses now."""
    return _start_method or default_start_method()


def _process_pool(workers):
    method = get_start_method()
    with _pools_lock:
        pool = _process_pools.get((method, workers))
        if pool is None:
            context = multiprocessing.get_context(method)
            pool = _process_pools[(method, workers)] = ProcessPoolExecutor(workers, mp_context=context)
        return pool


def _discard_process_pool(pool):
    """Forget a broken pool and end its surviving workers.

    Python 3.11's broken pool leaves its other workers waiting for tasks that never come, and its
    manager thread joins them forever: without this, the interpreter would hang at exit.
    """
    with _pools_lock:
        for key, cached in list(_process_pools.items()):
            if cached is pool:
                del _process_pools[key]
    for process in list((pool._processes or {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _run_processes(job, impl, workers):
    chunk_function(impl, job.kernel, job.function)  # a missing native build fails here, clearly, not in a worker
    segments = []  # the temporary ones, for arrays that do not live in a shared_array already
    specs = []
    try:
        for array in job.arrays:
            location = _shared.locate(array)
            if location is None:
                segment = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
                segments.append((array, segment))
                np.ndarray(array.shape, array.dtype, buffer=segment.buf)[...] = array
                location = (segment.name, 0)
            specs.append((*location, array.dtype.str, array.shape))
        pool = _process_pool(workers)
        chunks = list(job.chunks)
        per_task = -(-len(chunks) // (TASKS_PER_PROCESS * workers))
        calls = [(impl, job.kernel, job.function, tuple(specs), job.params, chunks[first : first + per_task])
                 for first in range(0, len(chunks), per_task)]
        try:
            results = _gather(pool, _process_chunks, calls)
        except BrokenProcessPool as exc:
            _discard_process_pool(pool)
            raise RuntimeError(
                f"a gilkit worker process died while running {job.kernel} (killed, or crashed); "
                "the pool was discarded and the next call starts a new one"
            ) from exc
        outputs = [job.arrays[index] for index in job.outputs]
        for array, segment in segments:
            if any(array is output for output in outputs):
                array[...] = np.ndarray(array.shape, array.dtype, buffer=segment.buf)
        return results
    finally:
        for _, segment in segments:
            segment.close()
            segment.unlink()


def _attach(name):
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)
    return shared_memory.SharedMemory(name=name)


def _process_chunks(impl, kernel, function, specs, params, chunks):
    """Runs in a worker process: attach the shared arrays, run the chunks, detach."""
    fn = chunk_function(impl, kernel, function)
    segments = [_attach(name) for name, _, _, _ in specs]
    views = [
        memoryview(np.ndarray(shape, np.dtype(dtype), buffer=segment.buf, offset=offset))
        for segment, (_, offset, dtype, shape) in zip(segments, specs)
    ]
    try:
        return [fn(*views, *params, start, stop) for start, stop in chunks]
    finally:
        for view in views:
            view.release()
        for segment in segments:
            segment.close()
