/* The GIL sampler (see gil_sampler.h). The one file of gilkit compiled against CPython's internal
 * headers: the GIL's layout comes from the interpreter that builds gilkit, never from offsets written
 * by hand. A CPython whose layout is not listed below gets no GIL reads, and says so.
 *
 * What is read, and how:
 *   - the GIL (CPython 3.11: _PyRuntime.ceval.gil; 3.12, 3.13: the main interpreter's ceval.gil):
 *     locked, last_holder (mapped to its native thread id through the holder's own thread state) and
 *     switch_number, and the drop request a waiting thread raises after a switch interval;
 *   - each thread's /proc/self/task/<tid>/syscall (Linux): "running" when it is runnable, else the
 *     system call it is blocked in with its arguments. A futex whose address lies inside the GIL's own
 *     structure (its mutex and condition variables) is a wait for the GIL; anything else is blocked
 *     elsewhere;
 *   - for runnable threads, /proc/self/task/<tid>/schedstat: a thread whose run-queue delay grew more
 *     than its CPU time since the last sample was mostly waiting for a CPU (inferred).
 *   - the holder's Python stack, right after the GIL (python_stacks.c; unknown if the GIL changed hands
 *     meanwhile), or where no GIL is read on a free-threaded build, each running thread's.
 * The files stay open and are re-read with pread, so one sample costs a few microseconds a thread.
 */
#define Py_BUILD_CORE 1
#include "Python.h"

#include "gil_sampler.h"
#include "python_stacks.h"

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
#  define GILKIT_GIL_LAYOUT 1
#  if PY_VERSION_HEX < 0x030C0000
#    include "internal/pycore_runtime.h"
#  else
#    include "internal/pycore_interp.h"
#    include "internal/pycore_runtime.h"   /* _PyRuntime.interpreters: the other interpreters' GILs */
#    if PY_VERSION_HEX >= 0x030D0000
#      include "internal/pycore_ceval.h"   /* _PY_GIL_DROP_REQUEST_BIT */
#    endif
#  endif
#  if PY_VERSION_HEX >= 0x030D0000
#    define LOAD_INT(field) _Py_atomic_load_int_relaxed(&(field))
#    define LOAD_HOLDER(field) ((PyThreadState *)_Py_atomic_load_ptr_relaxed(&(field)))
#  else
#    define LOAD_INT(field) ((int)_Py_atomic_load_relaxed(&(field)))
#    define LOAD_HOLDER(field) ((PyThreadState *)_Py_atomic_load_relaxed(&(field)))
#  endif
#  define LOAD_ULONG(field) (*(volatile unsigned long *)&(field))
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#else
#  define FENCE() ((void)0)
#endif

#ifdef GILKIT_GIL_LAYOUT
#  define GIL_SIZE sizeof(struct _gil_runtime_state)
/* A field of a copy of the GIL, read as a plain value (3.12 wraps them in atomic structs). */
#  if PY_VERSION_HEX >= 0x030D0000
#    define COPIED_INT(field) (field)
#    define COPIED_HOLDER(field) (field)
#  else
#    define COPIED_INT(field) ((field)._value)
#    define COPIED_HOLDER(field) ((PyThreadState *)(field)._value)
#  endif
#else
#  define GIL_SIZE 0
#endif

#ifdef GILKIT_GIL_LAYOUT
static struct _gil_runtime_state *gil;   /* set with the GIL held, read by the sampler */
static PyInterpreterState *main_interp;
#endif

#ifdef GILKIT_GIL_LAYOUT
static void read_gil_at(struct _gil_runtime_state *state, gilkit_sample *out, uintptr_t *holder_state);
#endif

int gilkit_gil_init(int32_t caller, const char **why)
{
#ifdef GILKIT_GIL_LAYOUT
    PyInterpreterState *interp = PyInterpreterState_Main();
#  if PY_VERSION_HEX < 0x030C0000
    struct _gil_runtime_state *found = &_PyRuntime.ceval.gil;
#  else
    struct _gil_runtime_state *found = interp->ceval.gil;
#  endif
#  ifdef Py_GIL_DISABLED
    if (!LOAD_INT(found->enabled)) {
        *why = "this free-threaded build runs without a GIL";
        return 0;
    }
#  endif
    /* The caller holds the GIL: read through the layout compiled in, it must say so. Only then do the
     * sampler's reads use it (a recording already running keeps reading what it was given). */
    main_interp = interp;
    gilkit_sample now;
    read_gil_at(found, &now, NULL);
    if (now.locked != 1 || now.holder != caller || LOAD_HOLDER(found->last_holder) != PyThreadState_Get()) {
        *why = "the GIL read through the layout gilkit was built with is not held by the thread that holds it: "
               "gilkit was built for another CPython than the one running it (reinstall gilkit)";
        return 0;
    }
    gil = found;
    *why = NULL;
    return 1;
#else
    (void)caller;
    *why = "this CPython's GIL layout is not compiled into gilkit (CPython 3.11 to 3.13 are)";
    return 0;
#endif
}

#ifdef GILKIT_GIL_LAYOUT
static int drop_requested(PyThreadState *holder)
{
#  if PY_VERSION_HEX >= 0x030D0000
    /* 3.13 keeps the request in the holder's own eval breaker. */
    return holder != NULL && (_Py_atomic_load_uintptr_relaxed(&holder->eval_breaker) & _PY_GIL_DROP_REQUEST_BIT);
#  else
    (void)holder;
    return LOAD_INT(main_interp->ceval.gil_drop_request) != 0;
#  endif
}
#endif

/* gilkit_gil_read, and the holder's thread state (0 where the holder is not known). */
static void read_gil_holder(gilkit_sample *out, uintptr_t *holder_state)
{
#ifdef GILKIT_GIL_LAYOUT
    read_gil_at(gil, out, holder_state);
#else
    if (holder_state != NULL) {
        *holder_state = 0;
    }
    out->holder_cpu_ns = -1;
    out->switches = -1;
    out->holder = 0;
    out->locked = -1;
    out->drop_request = 0;
    out->other_gils = 0;
#endif
}

void gilkit_gil_read(gilkit_sample *out)
{
    read_gil_holder(out, NULL);
}

#ifdef GILKIT_GIL_LAYOUT
/* The GIL at ``state`` (NULL: not located), read by any thread without taking it; ``holder_state`` (unless
 * NULL): the holder's thread state, 0 where the holder is not known. */
static void read_gil_at(struct _gil_runtime_state *state, gilkit_sample *out, uintptr_t *holder_state)
{
    uintptr_t unused;
    holder_state = holder_state != NULL ? holder_state : &unused;
    *holder_state = 0;
    out->holder_cpu_ns = -1;
    out->switches = -1;
    out->holder = 0;
    out->locked = -1;
    out->drop_request = 0;
    out->other_gils = 0;
    if (state == NULL) {
        return;
    }
#  ifdef Py_GIL_DISABLED
    if (!LOAD_INT(state->enabled)) {
        return;
    }
#  endif
    /* The holder's thread state is read only while the same thread holds the GIL before and after the
     * read, with no switch in between: a thread state is freed only after its thread dropped the GIL
     * for good. A few tries; a GIL that changes hands faster than that is locked, holder unknown. */
    for (int attempt = 0; attempt < 4; attempt++) {
        unsigned long switches = LOAD_ULONG(state->switch_number);
        int locked = LOAD_INT(state->locked);
        PyThreadState *holder = LOAD_HOLDER(state->last_holder);
        out->switches = (int64_t)switches;
        out->locked = locked > 0;
        if (locked <= 0 || holder == NULL) {
            out->drop_request = (int8_t)drop_requested(NULL);
            return;
        }
        FENCE();
        unsigned long tid = *(volatile unsigned long *)&holder->native_thread_id;
        int drop = drop_requested(holder);
        FENCE();
        if (LOAD_ULONG(state->switch_number) == switches && LOAD_INT(state->locked) > 0
                && LOAD_HOLDER(state->last_holder) == holder) {
            out->holder = (int32_t)tid;
            out->drop_request = (int8_t)drop;
            *holder_state = (uintptr_t)holder;
            return;
        }
    }
}
#endif

#ifdef _WIN32
#  include <windows.h>
double gilkit_now(void)
{
    LARGE_INTEGER count, frequency;
    QueryPerformanceCounter(&count);
    QueryPerformanceFrequency(&frequency);
    return (double)count.QuadPart / (double)frequency.QuadPart;
}
#else
#  include <time.h>
double gilkit_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
#endif

#ifdef __linux__

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int gilkit_threads_readable(const char **why)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", (long)syscall(SYS_gettid));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char buf[128];
    ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof buf - 1, 0);
    if (fd >= 0) {
        close(fd);
    }
    if (n <= 0) {
        *why = "this kernel does not let a process read its threads' system calls (/proc/self/task/*/syscall)";
        return 0;
    }
    *why = NULL;
    return 1;
}

#define SAMPLER_NICE 10
/* The most other interpreters whose own GILs a sample reads. */
#define MAX_OTHER_GILS 64

/* Rescan /proc/self/task at least this often, besides whenever its thread count changes. */
#define RESCAN_SECONDS 0.02

/* A sample whose GIL read took longer than this after its time stamp (the sampler was preempted in
 * between) is taken again: the GIL's state must belong to the sample's time. */
#define MAX_READ_SECONDS 20e-6
/* How often a runnable thread's run-queue delay is read (every this many samples): it is summed by the
 * kernel, so a sparser read still says whether the thread mostly waited for a CPU in between. */
#define SCHEDSTAT_EVERY 4
/* A thread that never held the GIL (no Python thread: an idle BLAS or OpenMP worker...) and has been
 * blocked elsewhere for this many samples in a row is read only every this many samples after. */
#define IDLE_EVERY 16

typedef struct {
    int32_t tid;
    int syscall_fd;
    int schedstat_fd;
    int32_t state;          /* -1 before the first sample */
    int held_gil;           /* seen holding the GIL at least once */
    int32_t blocked_for;    /* samples in a row blocked elsewhere */
    int64_t waited_at;      /* the GIL's switch count when last seen blocked on the GIL */
    int64_t cpu_ns, delay_ns;
    int waited_cpu;         /* the last schedstat read found mostly waiting for a CPU */
} watched_thread;

struct gilkit_sampler {
    pthread_t thread;
    int started;            /* the sampler thread runs (or ran): stop joins it */
    int stop;               /* read and written atomically */
    double interval;
    int64_t max_samples, max_changes;
    uintptr_t gil_begin, gil_end;
    pid_t pid;              /* for process_vm_readv on the process itself */
    int other_gils;         /* other interpreters' own GILs can be read (3.12+) */
    int n_others;           /* in the sample under way: */
    uintptr_t other_gil[MAX_OTHER_GILS];    /* each other interpreter's own GIL */
    int32_t other_holder[MAX_OTHER_GILS];   /* and its holder's native id (0: free or unknown) */
    int32_t self_tid;
    int truncated;
    int32_t *missed_tids;   /* threads found but refused for want of a file descriptor, once each (a later
                             * look may watch one, once descriptors are free: its lane starts late) */
    int64_t n_missed, cap_missed;
    int short_of_memory;    /* some thread could not be watched: out of memory */
    double cpu_seconds;
    gilkit_sample *samples;
    int64_t n_samples, cap_samples;  /* n_samples is stored atomically: gilkit_sampler_taken reads it meanwhile */
    gilkit_change *changes;
    int64_t n_changes, cap_changes;
    gilkit_stacks *stacks;  /* NULL: no stacks read (stacks_why says why, where they were asked for) */
    const char *stacks_why;
    gilkit_stack_sample *stack_samples;
    int64_t n_stack_samples, cap_stack_samples;
    watched_thread *watched;
    int64_t n_watched, cap_watched;
    pthread_mutex_t known_lock;  /* guards the known threads: gilkit_sampler_watches reads them meanwhile */
    int32_t *known_tids;    /* every thread ever watched, in the order first seen */
    char *known_names;      /* GILKIT_NAME_SIZE bytes each */
    int64_t n_known, cap_known_tids, cap_known_names;
    int64_t last_found;     /* the sample under way when a thread was last watched (threads come first) */
    nlink_t task_links;     /* /proc/self/task's link count at the last scan: 2 + the number of threads */
};

/* Room for one more item of an array that doubles; 0 when the limit is reached or memory is short. */
static int reserve(void **items, int64_t *capacity, int64_t used, int64_t limit, size_t size)
{
    if (used < *capacity) {
        return 1;
    }
    int64_t grown = *capacity ? 2 * *capacity : 1024;
    if (grown > limit) {
        grown = limit;
    }
    if (grown <= used) {
        return 0;
    }
    void *moved = realloc(*items, (size_t)grown * size);
    if (moved == NULL) {
        return 0;
    }
    *items = moved;
    *capacity = grown;
    return 1;
}

/* The last descriptors the process may open stay the program's own: the sampler never holds them. */
#define FD_RESERVE 32

static int open_task_file(int32_t tid, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", tid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct rlimit limit;
    if (fd >= 0 && getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
            && (rlim_t)fd + FD_RESERVE >= limit.rlim_cur) {
        close(fd);
        errno = EMFILE;
        return -1;
    }
    return fd;
}

static int listed(const int32_t *tids, int64_t count, int32_t tid)
{
    for (int64_t i = 0; i < count; i++) {
        if (tids[i] == tid) {
            return 1;
        }
    }
    return 0;
}

static int is_watched(const gilkit_sampler *s, int32_t tid)
{
    for (int64_t i = 0; i < s->n_watched; i++) {
        if (s->watched[i].tid == tid) {
            return 1;
        }
    }
    return 0;
}

static void watch_locked(gilkit_sampler *s, int32_t tid)
{
    if (!reserve((void **)&s->watched, &s->cap_watched, s->n_watched, INT32_MAX, sizeof *s->watched)
            || !reserve((void **)&s->known_tids, &s->cap_known_tids, s->n_known, INT32_MAX, sizeof *s->known_tids)
            || !reserve((void **)&s->known_names, &s->cap_known_names, s->n_known, INT32_MAX, GILKIT_NAME_SIZE)) {
        s->short_of_memory = 1;
        return;
    }
    watched_thread *w = &s->watched[s->n_watched];
    w->tid = tid;
    w->syscall_fd = open_task_file(tid, "syscall");
    if (w->syscall_fd < 0) {
        if ((errno == EMFILE || errno == ENFILE) && !listed(s->missed_tids, s->n_missed, tid)
                && reserve((void **)&s->missed_tids, &s->cap_missed, s->n_missed, INT32_MAX, sizeof *s->missed_tids)) {
            s->missed_tids[s->n_missed++] = tid;  /* it may be watched later, once descriptors are free */
        }
        return;  /* else it has ended already */
    }
    w->schedstat_fd = open_task_file(tid, "schedstat");
    w->state = -1;
    w->held_gil = 0;
    w->blocked_for = 0;
    w->waited_at = -1;
    w->cpu_ns = w->delay_ns = -1;
    w->waited_cpu = 0;
    s->n_watched++;
    char *name = s->known_names + (size_t)s->n_known * GILKIT_NAME_SIZE;
    memset(name, 0, GILKIT_NAME_SIZE);
    int comm = open_task_file(tid, "comm");
    if (comm >= 0) {
        ssize_t n = pread(comm, name, GILKIT_NAME_SIZE - 1, 0);
        if (n > 0 && name[n - 1] == '\n') {
            name[n - 1] = '\0';
        }
        close(comm);
    }
    s->known_tids[s->n_known++] = tid;
}

static void watch(gilkit_sampler *s, int32_t tid)
{
    pthread_mutex_lock(&s->known_lock);
    watch_locked(s, tid);
    s->last_found = s->n_samples;
    pthread_mutex_unlock(&s->known_lock);
}

/* Whether threads have started or ended since the last scan: Linux counts a process's threads in its
 * task folder's link count, which one stat reads far more cheaply than a scan. */
static int threads_changed(const gilkit_sampler *s)
{
    struct stat folder;
    return stat("/proc/self/task", &folder) != 0 || folder.st_nlink != s->task_links;
}

static void scan_threads(gilkit_sampler *s)
{
    struct stat folder;
    if (stat("/proc/self/task", &folder) == 0) {
        s->task_links = folder.st_nlink;
    }
    DIR *tasks = opendir("/proc/self/task");
    if (tasks == NULL) {
        return;
    }
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        char *end;
        long tid = strtol(entry->d_name, &end, 10);
        if (*end == '\0' && tid > 0 && tid != s->self_tid && !is_watched(s, (int32_t)tid)) {
            watch(s, (int32_t)tid);
        }
    }
    closedir(tasks);
}

static void unwatch(gilkit_sampler *s, int64_t index)
{
    watched_thread *w = &s->watched[index];
    close(w->syscall_fd);
    if (w->schedstat_fd >= 0) {
        close(w->schedstat_fd);
    }
    s->watched[index] = s->watched[--s->n_watched];
}

/* The state of a thread that does not hold the GIL; GILKIT_GONE once it has ended. */
static int32_t thread_state(const gilkit_sampler *s, watched_thread *w)
{
    if (!w->held_gil && w->blocked_for >= IDLE_EVERY && (s->n_samples + w->tid) % IDLE_EVERY != 0) {
        return w->state;
    }
    char buf[256];
    ssize_t n = pread(w->syscall_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) {
        return GILKIT_GONE;
    }
    buf[n] = '\0';
    if (strncmp(buf, "running", 7) != 0) {
        char *end;
        long number = strtol(buf, &end, 10);
        if (number == SYS_futex) {
            uintptr_t address = (uintptr_t)strtoull(end, NULL, 16);
            if (address >= s->gil_begin && address < s->gil_end) {
                return GILKIT_WAITING_GIL;
            }
            for (int i = 0; i < s->n_others; i++) {
                if (address >= s->other_gil[i] && address < s->other_gil[i] + GIL_SIZE) {
                    return GILKIT_WAITING_GIL;
                }
            }
        }
        return GILKIT_BLOCKED;
    }
    long long cpu_ns, delay_ns;
    if ((s->n_samples + w->tid) % SCHEDSTAT_EVERY == 0 && w->schedstat_fd >= 0
            && (n = pread(w->schedstat_fd, buf, sizeof buf - 1, 0)) > 0) {
        buf[n] = '\0';
        if (sscanf(buf, "%lld %lld", &cpu_ns, &delay_ns) == 2) {
            w->waited_cpu = w->cpu_ns >= 0 && delay_ns - w->delay_ns > cpu_ns - w->cpu_ns;
            w->cpu_ns = cpu_ns;
            w->delay_ns = delay_ns;
        }
    }
    return w->waited_cpu ? GILKIT_WAITING_CPU : GILKIT_RUNNING;
}

/* The CPU time the GIL's holder has used so far, from its thread CPU clock: exact, where schedstat is
 * brought up to date only at scheduler ticks. It tells how far the holder got while others waited,
 * whether or not a CPU was free for it. */
static int64_t holder_cpu_ns(int32_t holder)
{
    /* The kernel's clock id of a thread's CPU time (what glibc's pthread_getcpuclockid makes). */
    clockid_t clock = (clockid_t)((~(unsigned int)holder << 3) | 6);
    struct timespec used;
    if (holder == 0 || clock_gettime(clock, &used) != 0) {
        return -1;
    }
    return (int64_t)used.tv_sec * 1000000000 + used.tv_nsec;
}

/* A thread that waited for the GIL and now runs (or waits for a CPU) while another holds it, the GIL
 * not having changed hands since: it cannot have had the GIL (taking it moves the switch count on), so it
 * is still in the GIL's wait loop, woken by its timed wait to ask for a drop. On busy CPUs such a thread
 * spends long in the run queue there; read as running, it would hide the wait. */
static int still_waiting_gil(const watched_thread *w, const gilkit_sample *sample, int32_t state)
{
    return w->state == GILKIT_WAITING_GIL && (state == GILKIT_RUNNING || state == GILKIT_WAITING_CPU)
           && sample->locked == 1 && sample->holder != 0 && sample->switches == w->waited_at;
}

static int record_change(gilkit_sampler *s, int32_t tid, int32_t state)
{
    if (!reserve((void **)&s->changes, &s->cap_changes, s->n_changes, s->max_changes, sizeof *s->changes)) {
        return 0;
    }
    s->changes[s->n_changes++] = (gilkit_change){(int32_t)s->n_samples, tid, state};
    return 1;
}

#if defined(GILKIT_GIL_LAYOUT) && PY_VERSION_HEX >= 0x030C0000
static int copy_in(const gilkit_sampler *s, void *to, uintptr_t from, size_t size)
{
    struct iovec local = {to, size}, remote = {(void *)from, size};
    return from != 0 && process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == (ssize_t)size;
}
#endif

/* Each other interpreter's own GIL (3.12+: an isolated subinterpreter has one) and its holder, into
 * s->other_gil and s->other_holder. An interpreter may be destroyed meanwhile, so every read of one goes
 * through process_vm_readv; a holder is known only if the GIL did not change hands during its read. */
static void read_other_gils(gilkit_sampler *s)
{
    s->n_others = 0;
#if defined(GILKIT_GIL_LAYOUT) && PY_VERSION_HEX >= 0x030C0000
    if (!s->other_gils) {
        return;
    }
    uintptr_t interp = (uintptr_t)__atomic_load_n(&_PyRuntime.interpreters.head, __ATOMIC_ACQUIRE);
    for (int steps = 0; interp != 0 && steps < 4 * MAX_OTHER_GILS && s->n_others < MAX_OTHER_GILS; steps++) {
        uintptr_t next, own;
        if (!copy_in(s, &next, interp + offsetof(PyInterpreterState, next), sizeof next)
                || !copy_in(s, &own, interp + offsetof(PyInterpreterState, ceval.gil), sizeof own)) {
            return;
        }
        struct _gil_runtime_state before, after;
        if (own != 0 && own != s->gil_begin && copy_in(s, &before, own, sizeof before)) {
            int32_t holder = 0;
            unsigned long tid;
            uintptr_t last = (uintptr_t)COPIED_HOLDER(before.last_holder);
            if (COPIED_INT(before.locked) > 0 && last != 0
                    && copy_in(s, &tid, last + offsetof(PyThreadState, native_thread_id), sizeof tid)
                    && copy_in(s, &after, own, sizeof after) && after.switch_number == before.switch_number
                    && COPIED_INT(after.locked) > 0 && (uintptr_t)COPIED_HOLDER(after.last_holder) == last) {
                holder = (int32_t)tid;
            }
            s->other_gil[s->n_others] = own;
            s->other_holder[s->n_others++] = holder;
        }
        interp = next;
    }
#endif
}

static int holds_other_gil(const gilkit_sampler *s, int32_t tid)
{
    for (int i = 0; i < s->n_others; i++) {
        if (s->other_holder[i] == tid) {
            return 1;
        }
    }
    return 0;
}

static int record_stack(gilkit_sampler *s, int32_t tid, int32_t stack)
{
    if (!reserve((void **)&s->stack_samples, &s->cap_stack_samples, s->n_stack_samples, s->max_changes,
                 sizeof *s->stack_samples)) {
        return 0;
    }
    s->stack_samples[s->n_stack_samples++] = (gilkit_stack_sample){(int32_t)s->n_samples, tid, stack};
    return 1;
}

/* The holder's stack, read right after the GIL: unknown if the GIL changed hands meanwhile. */
static int record_holder_stack(gilkit_sampler *s, const gilkit_sample *sample, uintptr_t holder_state)
{
    if (s->stacks == NULL || holder_state == 0) {
        return 1;
    }
    int32_t stack = gilkit_stacks_read(s->stacks, holder_state, sample->holder);
    gilkit_sample after;
    gilkit_gil_read(&after);
    if (after.switches != sample->switches || after.holder != sample->holder) {
        stack = GILKIT_STACK_UNKNOWN;
    }
    return record_stack(s, sample->holder, stack);
}

/* Where no GIL is read (a free-threaded build running without it), the stack of each running thread. */
static int record_running_stack(gilkit_sampler *s, int32_t tid)
{
    uintptr_t thread_state = gilkit_stacks_thread_state(s->stacks, tid);
    return thread_state == 0 || record_stack(s, tid, gilkit_stacks_read(s->stacks, thread_state, tid));
}

/* One sample: the GIL (and its holder's stack), then every watched thread. 0 when a buffer is full. */
static int take_sample(gilkit_sampler *s)
{
    if (!reserve((void **)&s->samples, &s->cap_samples, s->n_samples, s->max_samples, sizeof *s->samples)) {
        return 0;
    }
    gilkit_sample *sample = &s->samples[s->n_samples];
    uintptr_t holder_state = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
        sample->time = gilkit_now();
        read_gil_holder(sample, &holder_state);
        if (gilkit_now() - sample->time <= MAX_READ_SECONDS) {
            break;
        }
    }
    if (!record_holder_stack(s, sample, holder_state)) {
        return 0;
    }
    read_other_gils(s);
    sample->other_gils = 0;
    for (int i = 0; i < s->n_others; i++) {
        sample->other_gils += s->other_holder[i] != 0 && sample->other_gils < 127;
    }
    if (sample->holder != 0 && !is_watched(s, sample->holder)) {
        scan_threads(s);  /* a thread started since the last scan holds the GIL */
    }
    sample->holder_cpu_ns = holder_cpu_ns(sample->holder);
    for (int64_t i = 0; i < s->n_watched; i++) {
        watched_thread *w = &s->watched[i];
        int32_t state = w->tid == sample->holder || holds_other_gil(s, w->tid) ? GILKIT_HOLDING : thread_state(s, w);
        if (state == GILKIT_WAITING_GIL) {
            w->waited_at = sample->switches;
        } else if (still_waiting_gil(w, sample, state)) {
            state = GILKIT_WAITING_GIL;
        }
        w->held_gil |= state == GILKIT_HOLDING;
        w->blocked_for = state == GILKIT_BLOCKED ? w->blocked_for + 1 : 0;
        if (state != w->state) {
            if (!record_change(s, w->tid, state)) {
                return 0;
            }
            w->state = state;
        }
        if (s->stacks != NULL && s->gil_end == 0 && state == GILKIT_RUNNING && !record_running_stack(s, w->tid)) {
            return 0;
        }
        if (state == GILKIT_GONE) {
            unwatch(s, i--);
        }
    }
    __atomic_store_n(&s->n_samples, s->n_samples + 1, __ATOMIC_RELEASE);
    return 1;
}

static void *sample_until_stopped(void *arg)
{
    gilkit_sampler *s = arg;
    double next = gilkit_now(), last_scan = -1.0;
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        if (next - last_scan >= RESCAN_SECONDS || (s->n_samples % SCHEDSTAT_EVERY == 0 && threads_changed(s))) {
            scan_threads(s);
            last_scan = next;
        }
        if (!take_sample(s)) {
            s->truncated = 1;
            break;
        }
        next += s->interval;
        double now = gilkit_now();
        if (next < now) {
            next = now;  /* late (no CPU was free): sample again at once, but do not try to catch up */
        }
        struct timespec until = {(time_t)next, (long)((next - (double)(time_t)next) * 1e9)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
        }
    }
    struct timespec used;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used);
    s->cpu_seconds = (double)used.tv_sec + 1e-9 * (double)used.tv_nsec;
    return NULL;
}

static void *start_thread(void *arg)
{
    gilkit_sampler *s = arg;
    s->self_tid = (int32_t)syscall(SYS_gettid);
    /* A low priority (Linux applies it to this thread alone): where every CPU is busy, the sampler takes
     * less of them and samples less often; where a CPU is free, it samples at the interval. Not the
     * lowest: a sampler that runs only when a CPU falls idle samples the moments threads block, not the
     * run as a whole. */
    setpriority(PRIO_PROCESS, (id_t)s->self_tid, SAMPLER_NICE);
    return sample_until_stopped(s);
}

gilkit_sampler *gilkit_sampler_start(double interval, int64_t max_samples, int with_stacks, const char **why)
{
    if (!gilkit_threads_readable(why)) {
        return NULL;
    }
    gilkit_sampler *s = calloc(1, sizeof *s);
    if (s == NULL) {
        *why = "out of memory";
        return NULL;
    }
    pthread_mutex_init(&s->known_lock, NULL);
    s->interval = interval;
    s->max_samples = max_samples;
    /* Thread states change far less often than once a sample each; a recording that outgrows this
     * stops early and says so. */
    s->max_changes = 16 * max_samples;
    s->self_tid = -1;
    s->pid = getpid();
    if (with_stacks && gilkit_stacks_readable(&s->stacks_why)) {
        s->stacks = gilkit_stacks_new();
        s->stacks_why = s->stacks == NULL ? "out of memory" : NULL;
    }
#ifdef GILKIT_GIL_LAYOUT
    struct _gil_runtime_state *located = gil;  /* set by gilkit_gil_init; NULL where the GIL is not read */
    if (located != NULL) {
        s->gil_begin = (uintptr_t)located;
        s->gil_end = (uintptr_t)(located + 1);
        s->other_gils = PY_VERSION_HEX >= 0x030C0000;
    }
#endif
    /* The first sample and the last are taken by the caller, so that a recording, however short and
     * however busy the CPUs, has its start and its end. */
    scan_threads(s);
    if (!take_sample(s)) {
        gilkit_sampler_free(s);  /* no thread to join; the watched threads' files are closed */
        *why = "out of memory";
        return NULL;
    }
    /* The sampler takes no signal: Ctrl-C and the rest go to the Python threads. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int failed = pthread_create(&s->thread, NULL, start_thread, s);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (failed) {
        gilkit_sampler_free(s);  /* no thread to join; the watched threads' files are closed */
        *why = "could not start the sampler thread";
        return NULL;
    }
    s->started = 1;
    *why = NULL;
    return s;
}

void gilkit_sampler_stop(gilkit_sampler *s)
{
    if (!__atomic_exchange_n(&s->stop, 1, __ATOMIC_ACQ_REL) && s->started) {
        pthread_join(s->thread, NULL);
        if (!s->truncated && !take_sample(s)) {
            s->truncated = 1;
        }
    }
    while (s->n_watched) {
        unwatch(s, s->n_watched - 1);
    }
}

void gilkit_sampler_free(gilkit_sampler *s)
{
    gilkit_sampler_stop(s);
    free(s->samples);
    free(s->changes);
    free(s->watched);
    free(s->known_tids);
    free(s->known_names);
    free(s->missed_tids);
    free(s->stack_samples);
    gilkit_stacks_free(s->stacks);
    pthread_mutex_destroy(&s->known_lock);
    free(s);
}

int64_t gilkit_sampler_samples(const gilkit_sampler *s, const gilkit_sample **samples)
{
    *samples = s->samples;
    return s->n_samples;
}

int64_t gilkit_sampler_changes(const gilkit_sampler *s, const gilkit_change **changes)
{
    *changes = s->changes;
    return s->n_changes;
}

int32_t gilkit_sampler_threads(const gilkit_sampler *s, const int32_t **tids, const char **names)
{
    *tids = s->known_tids;
    *names = s->known_names;
    return (int32_t)s->n_known;
}

int64_t gilkit_sampler_taken(const gilkit_sampler *s)
{
    return __atomic_load_n(&s->n_samples, __ATOMIC_ACQUIRE);
}

int gilkit_sampler_watches(gilkit_sampler *s, int32_t tid)
{
    int found = 0;
    pthread_mutex_lock(&s->known_lock);
    for (int64_t i = 0; i < s->n_known && !found; i++) {
        found = s->known_tids[i] == tid;
    }
    int64_t sampled_from = s->last_found;
    pthread_mutex_unlock(&s->known_lock);
    return found && gilkit_sampler_taken(s) > sampled_from;
}

double gilkit_sampler_cpu_seconds(const gilkit_sampler *s) { return s->cpu_seconds; }

int gilkit_sampler_truncated(const gilkit_sampler *s) { return s->truncated; }

int64_t gilkit_sampler_missed(const gilkit_sampler *s, int *short_of_memory)
{
    *short_of_memory = s->short_of_memory;
    return s->n_missed;
}

const struct gilkit_stacks *gilkit_sampler_stacks(const gilkit_sampler *s, const char **why)
{
    *why = s->stacks_why;
    return s->stacks;
}

int64_t gilkit_sampler_stack_samples(const gilkit_sampler *s, const gilkit_stack_sample **stack_samples)
{
    *stack_samples = s->stack_samples;
    return s->n_stack_samples;
}

#else  /* not Linux: no way to read other threads' scheduler states */

int gilkit_threads_readable(const char **why)
{
    *why = "the GIL timeline reads threads' states from /proc: Linux only";
    return 0;
}

gilkit_sampler *gilkit_sampler_start(double interval, int64_t max_samples, int with_stacks, const char **why)
{
    (void)interval;
    (void)max_samples;
    (void)with_stacks;
    gilkit_threads_readable(why);
    return NULL;
}

void gilkit_sampler_stop(gilkit_sampler *s) { (void)s; }
void gilkit_sampler_free(gilkit_sampler *s) { (void)s; }
int64_t gilkit_sampler_samples(const gilkit_sampler *s, const gilkit_sample **samples)
{
    (void)s;
    *samples = NULL;
    return 0;
}
int64_t gilkit_sampler_changes(const gilkit_sampler *s, const gilkit_change **changes)
{
    (void)s;
    *changes = NULL;
    return 0;
}
int32_t gilkit_sampler_threads(const gilkit_sampler *s, const int32_t **tids, const char **names)
{
    (void)s;
    *tids = NULL;
    *names = NULL;
    return 0;
}
int64_t gilkit_sampler_taken(const gilkit_sampler *s)
{
    (void)s;
    return 0;
}
int gilkit_sampler_watches(gilkit_sampler *s, int32_t tid)
{
    (void)s;
    (void)tid;
    return 0;
}
double gilkit_sampler_cpu_seconds(const gilkit_sampler *s) { (void)s; return 0.0; }
const struct gilkit_stacks *gilkit_sampler_stacks(const gilkit_sampler *s, const char **why)
{
    (void)s;
    *why = NULL;
    return NULL;
}
int64_t gilkit_sampler_stack_samples(const gilkit_sampler *s, const gilkit_stack_sample **stack_samples)
{
    (void)s;
    *stack_samples = NULL;
    return 0;
}
int gilkit_sampler_truncated(const gilkit_sampler *s) { (void)s; return 0; }
int64_t gilkit_sampler_missed(const gilkit_sampler *s, int *short_of_memory)
{
    (void)s;
    *short_of_memory = 0;
    return 0;
}

#endif
