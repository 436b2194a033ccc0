"""Chunks on the calling thread (inline), or on it and a team of helper threads shared by every call; and
the log of those chunks that the GIL timeline draws."""

import collections
import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .job import ChunkFunction, Chunks, Fold, Job, keep


class ChunkLog:
    """The chunks run on this process's threads while the log is installed (gilkit.gil_timeline does):
    (native thread id, chunk function, start, stop) on time.perf_counter's clock. ``timer(fn, args)`` returns
    ``(fn(*args), start, stop)`` with both times taken in compiled code right around the call, so that no
    GIL switch falls between a time and the chunk."""

    def __init__(self, timer: Callable[[ChunkFunction, tuple[Any, ...]], tuple[Any, float, float]]) -> None:
        self.timer = timer
        self.spans: list[tuple[int, str, float, float]] = []

    def timed(self, fn: ChunkFunction, name: str) -> ChunkFunction:
        def timed_chunk(*args: Any) -> Any:
            value, start, stop = self.timer(fn, args)
            self.spans.append((threading.get_native_id(), name, start, stop))
            return value

        return timed_chunk


#: The log installed by logging_chunks, if any (the strategy reads it for every call).
chunk_log: ChunkLog | None = None


def _forget_chunk_log() -> None:
    """In a child forked while chunks were logged: the recording that reads the log stayed in the parent."""
    global chunk_log
    chunk_log = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_chunk_log)


@contextlib.contextmanager
def logging_chunks(log: ChunkLog) -> Iterator[ChunkLog]:
    """Log every chunk that runs inline or on threads (process and OpenMP chunks run out of sight)."""
    global chunk_log
    if chunk_log is not None:
        raise RuntimeError("chunks are already being logged (one GIL timeline records at a time)")
    chunk_log = log
    try:
        yield log
    finally:
        chunk_log = None


def run_inline(fn: ChunkFunction, args: tuple[Any, ...], job: Job, cancel: memoryview) -> Any:
    """The chunks one after another on the calling thread: no lock, no queue."""
    folded = job.initial
    for start, stop in job.chunks:
        folded = job.fold(folded, fn(*args, start, stop, cancel))
    return folded


class ChunkQueue:
    """One call's chunks, taken in turn from a shared counter by the calling thread and its helpers,
    their results folded in chunk order as they arrive; the first error raises the call's cancel flag,
    so the other chunks stop early."""

    def __init__(self, fn: ChunkFunction, args: tuple[Any, ...], chunks: Chunks, cancel: memoryview,
                 fold: Fold = keep, initial: Any = None) -> None:
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


class Team:
    """Helper threads shared by every call, as many as the largest call has wanted: a call posts its
    queue, wakes as many helpers as it wants, and drains the queue itself too, so a small call need not
    wait for any helper to wake up, and a call whose helpers are busy elsewhere still progresses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._posted: collections.deque[list[Any]] = collections.deque()  # [queue, helpers still wanted]
        self.threads = 0
        self._generation = 0  # shutdown() starts a new one: the helpers of the old one exit

    def run(self, queue: ChunkQueue, helpers: int) -> Any:
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


TEAM = Team()
