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

    ctypedef struct gilkit_stack_sample:
        int32_t sample
        int32_t tid
        int32_t stack

    ctypedef struct gilkit_sampler:
        pass

    int GILKIT_NAME_SIZE
    int GILKIT_HOLDING, GILKIT_RUNNING, GILKIT_WAITING_GIL, GILKIT_WAITING_CPU, GILKIT_BLOCKED, GILKIT_GONE
    double gilkit_now() noexcept nogil
    int gilkit_gil_init(int32_t caller, const char **why)
    int gilkit_threads_readable(const char **why)
    gilkit_sampler *gilkit_sampler_start(double interval, int64_t max_samples, int with_stacks, const char **why)
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
    const gilkit_stacks *gilkit_sampler_stacks(const gilkit_sampler *sampler, const char **why)
    int64_t gilkit_sampler_stack_samples(const gilkit_sampler *sampler, const gilkit_stack_sample **samples)

cdef extern from "python_stacks.h":
    ctypedef struct gilkit_function:
        int32_t qualname
        int32_t filename
        int32_t first_line

    ctypedef struct gilkit_stack_node:
        int32_t parent
        int32_t function

    ctypedef struct gilkit_stacks:
        pass

    int GILKIT_STACK_UNKNOWN, GILKIT_FUNCTION_ELIDED, GILKIT_STACK_DEPTH
    int32_t gilkit_stacks_nodes(const gilkit_stacks *stacks, const gilkit_stack_node **nodes)
    int32_t gilkit_stacks_functions(const gilkit_stacks *stacks, const gilkit_function **functions)
    int64_t gilkit_stacks_texts(const gilkit_stacks *stacks, const char **texts)
    int gilkit_stacks_full(const gilkit_stacks *stacks)
    int gilkit_stacks_readable(const char **why)

#: Bytes of one sample and of one change, as the structured dtypes of gilkit._timeline.records must lay
#: them out.
SAMPLE_SIZE = sizeof(gilkit_sample)
CHANGE_SIZE = sizeof(gilkit_change)
#: Bytes of one stack sample (sample, tid, stack) and of one stack node (parent, function).
STACK_SAMPLE_SIZE = sizeof(gilkit_stack_sample)
STACK_NODE_SIZE = sizeof(gilkit_stack_node)
#: The stack of a sample whose stack changed under the read or could not be read; the function of the node
#: that stands for the outer frames past the depth limit (STACK_DEPTH frames are kept, the innermost).
STACK_UNKNOWN = GILKIT_STACK_UNKNOWN
FUNCTION_ELIDED = GILKIT_FUNCTION_ELIDED
STACK_DEPTH = GILKIT_STACK_DEPTH
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


def stacks_unreadable_reason():
    """None where the Python stacks of other threads can be read here, checked on this thread's own stack
    now; else why not, in words."""
    cdef const char *why
    if gilkit_stacks_readable(&why):
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

    def __init__(self, double interval, int64_t max_samples, bint stacks=True):
        cdef const char *why
        if self._sampler is not NULL:
            raise RuntimeError("a Sampler starts once")
        self._sampler = gilkit_sampler_start(interval, max_samples, stacks, &why)
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

    def stack_samples(self):
        """The stacks read, as raw bytes (STACK_SAMPLE_SIZE each): sample, tid, stack (a node, or
        STACK_UNKNOWN): the GIL's holder in each sample where it is known, or on a build running without the
        GIL each running thread."""
        cdef const gilkit_stack_sample *records
        cdef int64_t count = gilkit_sampler_stack_samples(self._started(), &records)
        return (<const char *> records)[:count * sizeof(gilkit_stack_sample)] if count else b""

    def stack_tables(self):
        """(nodes as raw bytes, STACK_NODE_SIZE each: parent, function; the functions as [(qualified name,
        file name, first line), ...]; whether the tables filled up), or None where no stacks were read."""
        cdef const char *why
        cdef const gilkit_stacks *stacks = gilkit_sampler_stacks(self._started(), &why)
        cdef const gilkit_stack_node *nodes
        cdef const gilkit_function *functions
        cdef const char *texts
        if stacks is NULL:
            return None
        cdef int32_t n_nodes = gilkit_stacks_nodes(stacks, &nodes)
        cdef int32_t n_functions = gilkit_stacks_functions(stacks, &functions)
        gilkit_stacks_texts(stacks, &texts)
        named = [((texts + functions[i].qualname).decode(errors="replace"),
                  (texts + functions[i].filename).decode(errors="replace"), functions[i].first_line)
                 for i in range(n_functions)]
        raw = (<const char *> nodes)[:n_nodes * sizeof(gilkit_stack_node)] if n_nodes else b""
        return raw, named, bool(gilkit_stacks_full(stacks))

    @property
    def stacks_unread(self):
        """Why no stacks were read though they were asked for (None where they were, or not asked for)."""
        cdef const char *why
        gilkit_sampler_stacks(self._started(), &why)
        return None if why is NULL else why.decode()
