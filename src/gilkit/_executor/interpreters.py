"""Chunks in isolated subinterpreters, each with a GIL of its own (PEP 684), one thread each: the fourth way
past the GIL, beside threads around code that releases it, processes, and the free-threaded build.

The pool's interpreters live as long as the process (or until shutdown()), each bound to a thread of its
own that runs its tasks: an interpreter runs on one thread at a time, and its own GIL lets it run at once
with the main interpreter and the others. Arrays cross in shared memory (processes.staged, as for the
process pool), and so do each call's cancel flag and chunk results; a task crosses as the text of a Python
literal (gilkit._interpreter_worker says what it holds). Only the pure-Python twins run there: an isolated
interpreter refuses extension modules that do not declare support for it, NumPy among them, and gilkit's
compiled kernels import NumPy's world through typed memoryviews, whose state Cython keeps per process
(cython#8006).

CPython 3.13 has the low-level module ``_interpreters``, 3.12 ``_xxsubinterpreters``; 3.11 has neither, and
3.14's ``concurrent.interpreters`` is untested here.
"""

import collections
import contextlib
import functools
import importlib
import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing import shared_memory
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .._arithmetic import ceil_div
from .job import Job
from .processes import MAX_CHUNKS_PER_TASK, TASKS_PER_PROCESS, ArraySpec, staged

#: The oldest CPython whose subinterpreters can each have a GIL of their own.
MINIMUM_VERSION = (3, 12)
BOOTSTRAP = """
import sys, types
sys.path[:] = {paths!r}
package = types.ModuleType("gilkit")  # gilkit's __init__ imports NumPy, which an isolated interpreter refuses
package.__path__ = [{package!r}]
sys.modules["gilkit"] = package
from gilkit import _interpreter_worker
del package, sys, types
"""


def _low_level() -> ModuleType | None:
    for name in ("_interpreters", "_xxsubinterpreters"):
        with contextlib.suppress(ImportError):
            return importlib.import_module(name)
    return None


_MODULE = _low_level() if sys.version_info >= MINIMUM_VERSION else None
#: None where mode="interpreters" can run here; else why not.
UNAVAILABLE_REASON = (None if _MODULE is not None else
                      f"mode='interpreters' needs CPython {'.'.join(map(str, MINIMUM_VERSION))} or later, whose "
                      f"subinterpreters each have a GIL of their own; this is {sys.version.split()[0]}")


class InterpreterFailed(RuntimeError):
    """Code run in a worker interpreter raised; the message is its traceback, as that interpreter formatted it."""


def _create() -> Any:
    assert _MODULE is not None
    if hasattr(_MODULE, "new_config"):  # 3.13
        return _MODULE.create(_MODULE.new_config("isolated"))
    return _MODULE.create(isolated=True)  # 3.12


def _exec(interpreter: Any, code: str) -> None:
    assert _MODULE is not None
    if hasattr(_MODULE, "exec"):  # 3.13: the failure comes back as a snapshot of the exception
        failed = _MODULE.exec(interpreter, code)
        if failed is not None:
            raise InterpreterFailed(getattr(failed, "formatted", None) or str(failed))
        return
    try:
        _MODULE.run_string(interpreter, code)  # 3.12
    except _MODULE.RunFailedError as exc:
        raise InterpreterFailed(str(exc)) from None


class _Call:
    """One kernel call's tasks, taken in turn by the workers it was given to."""

    def __init__(self, tasks: list[str], workers: int) -> None:
        self._tasks = collections.deque(tasks)
        self._lock = threading.Lock()
        self._working = workers
        self.errors: list[BaseException] = []
        self.done = threading.Event()

    def work(self, run: Callable[[str], None]) -> None:
        try:
            while True:
                with self._lock:
                    if not self._tasks or self.errors:
                        return
                    task = self._tasks.popleft()
                try:
                    run(task)
                except BaseException as exc:
                    with self._lock:
                        self.errors.append(exc)
                    raise
        finally:
            with self._lock:
                self._working -= 1
                if not self._working:
                    self.done.set()


class _Worker:
    """An isolated interpreter and the thread that runs its tasks. After a task failed, the interpreter is
    replaced by a fresh one: nothing a failure left behind reaches the next call."""

    _serial = itertools.count()

    def __init__(self) -> None:
        self.inbox: collections.deque[_Call | None] = collections.deque()
        self._wake = threading.Semaphore(0)
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, name=f"gilkit-interpreter-{next(self._serial)}",
                                       daemon=True)
        self.thread.start()

    def started(self) -> None:
        """Wait for the interpreter to have started; its error if it could not."""
        self._ready.wait()
        if self._failed is not None:
            raise RuntimeError(f"a worker interpreter could not start: {self._failed}") from self._failed

    def give(self, call: "_Call | None") -> None:
        self.inbox.append(call)
        self._wake.release()

    def _serve(self) -> None:
        try:
            interpreter = self._start()
        except BaseException as exc:
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                self._wake.acquire()
                call = self.inbox.popleft()
                if call is None:
                    return
                try:
                    call.work(functools.partial(_run_task, interpreter))
                except BaseException:
                    assert _MODULE is not None
                    _MODULE.destroy(interpreter)
                    interpreter = self._start()
        finally:
            assert _MODULE is not None
            _MODULE.destroy(interpreter)

    @staticmethod
    def _start() -> Any:
        interpreter = _create()
        try:
            package = str(Path(__file__).resolve().parent.parent)
            _exec(interpreter, BOOTSTRAP.format(paths=[p for p in sys.path if isinstance(p, str)], package=package))
        except BaseException:
            assert _MODULE is not None
            _MODULE.destroy(interpreter)
            raise
        return interpreter


def _run_task(interpreter: Any, task: str) -> None:
    _exec(interpreter, f"_interpreter_worker.run({task!r})")


class _InterpreterPool:
    """The worker interpreters, as many as the largest call has wanted, shared by every call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []

    def hire(self, count: int) -> list[_Worker]:
        with self._lock:
            while len(self._workers) < count:
                self._workers.append(_Worker())
            hired = self._workers[:count]
        for worker in hired:
            worker.started()
        return hired

    def shutdown(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.give(None)
        for worker in workers:
            worker.thread.join()

    def forget(self) -> None:
        """In a forked child: the workers' threads did not come along."""
        self._lock = threading.Lock()
        self._workers = []


POOL = _InterpreterPool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=POOL.forget)


@contextlib.contextmanager
def _segment(dtype: type[np.generic], count: int) -> Iterator[tuple[memoryview, ArraySpec]]:
    """``count`` items in a new shared-memory segment (zeroed, as every new segment is), and where a worker
    finds them."""
    item = np.dtype(dtype)
    segment = shared_memory.SharedMemory(create=True, size=max(1, count * item.itemsize))
    whole: Any = segment.buf  # typeshed: memoryview | None, and cast() wants a literal format
    view: memoryview = whole.cast(item.char)
    try:
        yield view, (segment.name, 0, item.str, (count,))
    finally:
        view.release()  # or the segment cannot close
        segment.close()
        segment.unlink()


def _plain(value: Any) -> Any:
    """A parameter as a plain Python value, whose repr is a literal (a NumPy scalar's is not)."""
    return value.item() if isinstance(value, np.generic) else value


def run_interpreters(job: Job, workers: int) -> Any:
    """The job's chunks on ``workers`` worker interpreters (gilkit._validate lets only impl='python' here)."""
    if UNAVAILABLE_REASON is not None:
        raise RuntimeError(UNAVAILABLE_REASON)
    workers = max(1, min(workers, len(job.chunks)))
    per_task = max(1, min(MAX_CHUNKS_PER_TASK, ceil_div(len(job.chunks), TASKS_PER_PROCESS * workers)))
    hired = POOL.hire(workers)
    params = tuple(_plain(value) for value in job.params)
    chunks = (job.chunks.start, job.chunks.stop, job.chunks.size)
    with (staged(job) as arrays, _segment(np.intc, 1) as (cancel, cancel_spec),
          _segment(job.result_dtype or np.int8, len(job.chunks)) as (results, results_spec)):
        out = results_spec if job.result_dtype is not None else None
        call = _Call([repr((job.module, job.function, arrays, params, chunks, first,
                            min(first + per_task, len(job.chunks)), cancel_spec, out))
                      for first in range(0, len(job.chunks), per_task)], len(hired))
        for worker in hired:
            worker.give(call)
        try:
            call.done.wait()
        except BaseException:  # Ctrl-C: every chunk polls the flag, so the workers are back within a chunk's poll
            cancel[0] = 1
            call.done.wait()
            raise
        if call.errors:
            raise RuntimeError(f"{job.function} failed in a worker interpreter:\n{call.errors[0]}") from None
        if job.result_dtype is None:
            return job.initial
        folded = job.initial
        for value in results[:len(job.chunks)].tolist():
            folded = job.fold(folded, value)
        return folded
