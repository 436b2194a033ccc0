"""The GIL sampler for gilkit.gil_timeline: a native thread that reads the interpreter's own GIL state and
every thread's scheduler state at a fixed interval, without ever taking the GIL (ext/gil_sampler.c).
"""

import threading

cimport cython
from libc.stdint cimport int8_t, int32_t, int64_t

cdef extern from "gil_sampler.h":
    ctypedef struct gilkit_sample:
        double time
        int64_t switches
        int64_t holder_cpu_ns
        int32_t holder
        int8_t locked
        int8_t drop_request

    ctypedef struct gilkit_change:
        int32_t sample
        int32_t tid
        int32_t state

    ctypedef struct gilkit_sampler:
        pass

    int GILKIT_NAME_SIZE
    int GILKIT_HOLDING, GILKIT_RUNNING, GILKIT_WAITING_GIL, GILKIT_WAITING_CPU, GILKIT_BLOCKED, GILKIT_GONE
    double gilkit_now() noexcept nogil
    int gilkit_gil_init(int32_t caller, const char **why)
    int gilkit_threads_readable(const char **why)
    gilkit_sampler *gilkit_sampler_start(double interval, int64_t max_samples, const char **why)
    void gilkit_sampler_stop(gilkit_sampler *sampler) noexcept nogil
    void gilkit_sampler_free(gilkit_sampler *sampler) noexcept nogil
    int64_t gilkit_sampler_samples(const gilkit_sampler *sampler, const gilkit_sample **samples)
    int64_t gilkit_sampler_changes(const gilkit_sampler *sampler, const gilkit_change **changes)
    int32_t gilkit_sampler_threads(const gilkit_sampler *sampler, const int32_t **tids, const char **names)
    int64_t gilkit_sampler_taken(const gilkit_sampler *sampler)
    int gilkit_sampler_watches(gilkit_sampler *sampler, int32_t tid)
    double gilkit_sampler_cpu_seconds(const gilkit_sampler *sampler)
    int gilkit_sampler_truncated(const gilkit_sampler *sampler)
    int64_t gilkit_sampler_missed(const gilkit_sampler *sampler, int *short_of_memory)

#: Bytes of one sample and of one change, as the structured dtypes of gilkit._timeline.records must lay
#: them out.
SAMPLE_SIZE = sizeof(gilkit_sample)
CHANGE_SIZE = sizeof(gilkit_change)
#: The code of each state a change records, by the name gilkit._timeline.model gives it.
STATE_CODES = {"holding": GILKIT_HOLDING, "running": GILKIT_RUNNING, "waiting_gil": GILKIT_WAITING_GIL,
               "waiting_cpu": GILKIT_WAITING_CPU, "blocked": GILKIT_BLOCKED, "ended": GILKIT_GONE}


def gil_unreadable_reason(native_id=None):
    """None where this interpreter's GIL can be read, checked against what it reads now; else why not, in
    words. ``native_id``: the thread the GIL must read as held by (this one, which holds it, by default;
    another makes the check fail, as a build for another CPython would)."""
    cdef const char *why
    if gilkit_gil_init(threading.get_native_id() if native_id is None else native_id, &why):
        return None
    return why.decode()


def threads_unreadable_reason():
    """None where threads' scheduler states can be read (Linux); else why not, in words."""
    cdef const char *why
    if gilkit_threads_readable(&why):
        return None
    return why.decode()


def timed_call(fn, tuple args):
    """``fn(*args)`` and the times (time.perf_counter's clock, the sampler's) just before and just after it,
    taken in compiled code: no bytecode runs in between, so no GIL switch can fall there."""
    cdef double start = gilkit_now()
    result = fn(*args)
    return result, start, gilkit_now()


@cython.auto_pickle(False)
cdef class Sampler:
    """A running sampler: started by the constructor, stopped by stop(); then read it."""

    cdef gilkit_sampler *_sampler

    def __init__(self, double interval, int64_t max_samples):
        cdef const char *why
        if self._sampler is not NULL:
            raise RuntimeError("a Sampler starts once")
        self._sampler = gilkit_sampler_start(interval, max_samples, &why)
        if self._sampler is NULL:
            raise RuntimeError(why.decode())

    cdef gilkit_sampler *_started(self) except NULL:
        if self._sampler is NULL:
            raise RuntimeError("this Sampler was never started")
        return self._sampler

    def __dealloc__(self):
        if self._sampler is not NULL:
            with nogil:
                gilkit_sampler_free(self._sampler)

    def stop(self):
        """Stop sampling and wait for the sampler thread to end (at most one interval)."""
        cdef gilkit_sampler *sampler = self._started()
        with nogil:
            gilkit_sampler_stop(sampler)

    def samples(self):
        """Every sample as raw bytes (SAMPLE_SIZE each): time, switches, holder_cpu_ns, holder, locked,
        drop_request."""
        cdef const gilkit_sample *samples
        cdef int64_t count = gilkit_sampler_samples(self._started(), &samples)
        return (<const char *> samples)[:count * sizeof(gilkit_sample)] if count else b""

    def changes(self):
        """Every change of a thread's state as raw bytes (CHANGE_SIZE each): sample, tid, state."""
        cdef const gilkit_change *changes
        cdef int64_t count = gilkit_sampler_changes(self._started(), &changes)
        return (<const char *> changes)[:count * sizeof(gilkit_change)] if count else b""

    def threads(self):
        """[(native thread id, the kernel's name for it when first seen), ...] for every thread watched."""
        cdef const int32_t *tids
        cdef const char *names
        cdef int32_t count = gilkit_sampler_threads(self._started(), &tids, &names)
        return [(tids[i], (names + i * GILKIT_NAME_SIZE).decode(errors="replace")) for i in range(count)]

    @property
    def taken(self):
        """How many samples the sampler has taken so far (readable while it samples)."""
        return gilkit_sampler_taken(self._started())

    def watches(self, int32_t tid):
        """Whether the sampler watches the thread with this native id yet and has taken a sample of it
        (callable while it samples)."""
        return bool(gilkit_sampler_watches(self._started(), tid))

    @property
    def cpu_seconds(self):
        """CPU time the sampler thread used (known once stopped)."""
        return gilkit_sampler_cpu_seconds(self._started())

    @property
    def truncated(self):
        """Whether the buffers filled up and sampling stopped before stop() was called."""
        return bool(gilkit_sampler_truncated(self._started()))

    @property
    def missed(self):
        """Threads found but not watched then: (how many for want of file descriptors, whether memory ran
        out for some)."""
        cdef int short_of_memory
        cdef int64_t for_fds = gilkit_sampler_missed(self._started(), &short_of_memory)
        return for_fds, bool(short_of_memory)
