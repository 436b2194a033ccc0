"""The control heartbeat: a sleeper that never needs the GIL, so its lateness is the CPU's share alone.

A Python heartbeat's wake-up is late when it waits for a CPU or for the GIL; this one's only when it
waits for a CPU. gilkit.heartbeat runs both side by side and reports the difference as the GIL's share.
"""

from _spans cimport cancelled, check_cancel

cdef extern from *:
    """
    #ifdef _WIN32
    #include <windows.h>
    static double gilkit_now(void) {
        LARGE_INTEGER frequency, count;
        QueryPerformanceFrequency(&frequency);
        QueryPerformanceCounter(&count);
        return (double)count.QuadPart / (double)frequency.QuadPart;
    }
    static void gilkit_sleep(double seconds) { Sleep((DWORD)(seconds * 1000.0 + 0.5)); }
    #else
    #include <time.h>
    static double gilkit_now(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
    }
    static void gilkit_sleep(double seconds) {
        struct timespec t;
        t.tv_sec = (time_t)seconds;
        t.tv_nsec = (long)((seconds - (double)t.tv_sec) * 1e9);
        nanosleep(&t, NULL);
    }
    #endif
    """
    double monotonic "gilkit_now" () noexcept nogil
    void sleep_for "gilkit_sleep" (double seconds) noexcept nogil


#: The longest single sleep: a stop request is seen within this, whatever the interval.
cdef double SLICE = 0.005


def control_beats(double interval, double[::1] lateness, const int[::1] stop):
    """Sleep ``interval`` seconds at a time with the GIL released, writing each wake-up's lateness in
    seconds to ``lateness`` until ``stop[0]`` is non-zero or the buffer is full; returns how many."""
    check_cancel(stop)
    if not 0 < interval <= 1:
        raise ValueError(f"interval must be in (0, 1] seconds, got {interval}")
    cdef Py_ssize_t beats = 0, size = lateness.shape[0]
    cdef double deadline, left, late
    with nogil:
        while beats < size and not cancelled(&stop[0]):
            deadline = monotonic() + interval
            left = interval
            while left > 0 and not cancelled(&stop[0]):
                sleep_for(left if left < SLICE else SLICE)
                left = deadline - monotonic()
            if cancelled(&stop[0]):
                break
            late = -left
            lateness[beats] = late if late > 0 else 0.0
            beats += 1
    return beats
