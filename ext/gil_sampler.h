/* The GIL sampler: a native thread that never takes the GIL and calls no Python API reads the main
 * interpreter's own GIL state and every thread's scheduler state at a fixed interval (gil_sampler.c).
 * ext/_gilsampler.pyx wraps it for gilkit.gil_timeline. Plain C types only: this header is included by
 * Cython code that must not see CPython's internal headers. */
#ifndef GILKIT_GIL_SAMPLER_H
#define GILKIT_GIL_SAMPLER_H

#include <stdint.h>

/* A thread's state in one sample (ext/_gilsampler.pyx exports them as STATE_CODES, by name). */
enum {
    GILKIT_HOLDING = 0,      /* holds the GIL (read: the GIL's last holder, while it is locked), or the own GIL
                              * of the subinterpreter it runs */
    GILKIT_RUNNING = 1,      /* on a CPU without the GIL (read: runnable and not the holder) */
    GILKIT_WAITING_GIL = 2,  /* blocked on the GIL's own mutex or condition variables (read: its futex),
                              * or runnable between two such waits while the GIL has not changed hands */
    GILKIT_WAITING_CPU = 3,  /* runnable, but queued for a CPU since the last sample (inferred: schedstat) */
    GILKIT_BLOCKED = 4,      /* blocked in any other system call: I/O, sleep, other locks (read) */
    GILKIT_GONE = 5          /* the thread has ended */
};

typedef struct {
    double time;           /* CLOCK_MONOTONIC seconds, the clock of time.perf_counter() on Linux */
    int64_t switches;      /* the GIL's own switch counter; -1 where there is no GIL to read */
    int64_t holder_cpu_ns; /* the CPU time the holder has used so far (schedstat); -1 where unknown */
    int32_t holder;        /* the native thread id holding the GIL; 0 when it is free or unknown */
    int8_t locked;         /* 1 held, 0 free, -1 no GIL to read */
    int8_t drop_request;   /* 1 while a waiting thread asks the holder to drop the GIL */
    int8_t other_gils;     /* other interpreters' own GILs held (3.12+ isolated subinterpreters; at most 127) */
} gilkit_sample;

typedef struct {
    int32_t sample;        /* from this sample on ... */
    int32_t tid;           /* ... this thread ... */
    int32_t state;         /* ... is in this state */
} gilkit_change;

/* In a sample, the Python stack of a thread: the GIL's holder, or on a build running without the GIL each
 * running thread (a node of python_stacks.h's tables, or GILKIT_STACK_UNKNOWN). */
typedef struct {
    int32_t sample;
    int32_t tid;
    int32_t stack;
} gilkit_stack_sample;

typedef struct gilkit_sampler gilkit_sampler;
struct gilkit_stacks;

/* Called with the GIL held, by the thread whose native id is ``caller``: locates the main interpreter's GIL
 * and checks the layout compiled in against it (the GIL must read locked, its last holder the caller's own
 * thread state, and that holder's native id ``caller``). 1 if it can be read (*why is NULL); else 0 and
 * *why says why not (a free-threaded build running without it, a CPython whose layout is not compiled
 * in, or a layout that does not match), and the sampler's reads go on as before this call. */
int gilkit_gil_init(int32_t caller, const char **why);
/* Called with the GIL held: 1 if threads' scheduler states can be read here (Linux /proc), else 0. */
int gilkit_threads_readable(const char **why);
/* Any thread, no GIL needed: the GIL's state now (locked -1 where it cannot be read). */
void gilkit_gil_read(gilkit_sample *out);
/* Any thread, no GIL needed: seconds on time.perf_counter()'s clock (CLOCK_MONOTONIC; Windows: the
 * performance counter), the clock of every sample. */
double gilkit_now(void);

/* Called with the GIL held, from Python code; NULL with *why set on failure. ``with_stacks``: read Python
 * stacks too, where they can be read (gilkit_sampler_stacks says why not). */
gilkit_sampler *gilkit_sampler_start(double interval, int64_t max_samples, int with_stacks, const char **why);
/* No GIL needed: stops the thread and waits for it. */
void gilkit_sampler_stop(gilkit_sampler *sampler);
void gilkit_sampler_free(gilkit_sampler *sampler);

int64_t gilkit_sampler_samples(const gilkit_sampler *sampler, const gilkit_sample **samples);
int64_t gilkit_sampler_changes(const gilkit_sampler *sampler, const gilkit_change **changes);
/* Every thread ever watched, and the name the kernel gave it (its comm) when it was first seen. */
int32_t gilkit_sampler_threads(const gilkit_sampler *sampler, const int32_t **tids, const char **names);
/* Any thread, while it samples too: how many samples it has taken so far. */
int64_t gilkit_sampler_taken(const gilkit_sampler *sampler);
/* Any thread, while it samples too: 1 once the sampler watches thread tid and has taken a sample of it
 * (it is in every sample from then on, until it ends), else 0. */
int gilkit_sampler_watches(gilkit_sampler *sampler, int32_t tid);
/* CPU time the sampler thread used, in seconds. */
double gilkit_sampler_cpu_seconds(const gilkit_sampler *sampler);
/* 1 if the sample or change buffers filled up and the recording stopped early. */
int gilkit_sampler_truncated(const gilkit_sampler *sampler);
/* How many threads the sampler found but could not watch then, for want of file descriptors (it leaves the
 * process's last 32 to the program's own use): each has no lane, or one that starts late;
 * *short_of_memory 1 if memory ran out for some thread. */
int64_t gilkit_sampler_missed(const gilkit_sampler *sampler, int *short_of_memory);

/* The stacks read, once stopped: their tables (python_stacks.h), or NULL and *why says why none were read
 * (NULL too where none were asked for). */
const struct gilkit_stacks *gilkit_sampler_stacks(const gilkit_sampler *sampler, const char **why);
int64_t gilkit_sampler_stack_samples(const gilkit_sampler *sampler, const gilkit_stack_sample **stack_samples);

#define GILKIT_NAME_SIZE 16

#endif
