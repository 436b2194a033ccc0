"""Native Monte-Carlo hit counting; the pure-Python twin is gilkit/_python/montecarlo.py.

Random numbers are counter-based (the splitmix64 finaliser applied to key + k * GAMMA), so sample k
is the same number whichever chunk, thread or process draws it.
"""

from cython.parallel cimport prange
from libc.stdint cimport uint64_t

from _spans cimport MAX_COUNT, cancelled, check_cancel, check_chunks, check_span

cdef uint64_t GAMMA = 0x9E3779B97F4A7C15ULL
cdef double TWO_POW_106 = 81129638414606681695789005144064.0


cdef inline uint64_t _mix(uint64_t z) noexcept nogil:
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef enum:
    POLL_EVERY = 1 << 16  # samples between two looks at the cancel flag


cdef long long _count_hits(uint64_t key, long long start, long long stop, const int *cancel) noexcept nogil:
    # The twin's sample k is x = a * 2**-53 and y = b * 2**-53 with a = mix(key + (2k+1)*GAMMA) >> 11
    # and b likewise at 2k+2. Two exact rewrites make it faster and decide every sample the same way:
    # - the counter's product advances by 2*GAMMA a sample (exact mod 2**64): a multiply spared;
    # - a, b < 2**53 convert exactly, and scaling by a power of two commutes with rounding (no
    #   underflow here), so x*x + y*y <= 1.0 exactly when a*a + b*b <= 2**106 in doubles.
    cdef long long _, block = start, hits = 0
    cdef uint64_t z = key + (2 * <uint64_t> start + 1) * GAMMA
    cdef double a, b
    while block < stop and not cancelled(cancel):
        for _ in range(block, min(block + POLL_EVERY, stop)):
            a = <double> (_mix(z) >> 11)
            b = <double> (_mix(z + GAMMA) >> 11)
            hits += a * a + b * b <= TWO_POW_106
            z += 2 * GAMMA
        block += POLL_EVERY
    return hits


def stream_key(uint64_t seed):
    """The generator key for ``seed``: one splitmix64 step, so nearby seeds give unrelated streams."""
    return _mix(seed + GAMMA)


def count_hits(uint64_t key, long long start, long long stop, const int[::1] cancel, *, bint release_gil=True):
    """How many of the samples start..stop-1 fall inside the quarter unit circle (fewer once cancel[0] is set)."""
    cdef long long hits
    check_span(start, stop, MAX_COUNT)
    check_cancel(cancel)
    if release_gil:
        with nogil:
            hits = _count_hits(key, start, stop, &cancel[0])
    else:
        hits = _count_hits(key, start, stop, &cancel[0])
    return hits


def count_hits_openmp(uint64_t key, const long long[::1] starts, const long long[::1] stops,
                      long long[::1] hits, int num_threads, const int[::1] cancel):
    """Every chunk of samples in one call (an OpenMP prange); hits[c] receives chunk c's count."""
    cdef Py_ssize_t c
    check_chunks(starts, stops, MAX_COUNT)
    check_span(0, starts.shape[0], hits.shape[0])
    check_cancel(cancel)
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="static"):
        hits[c] = _count_hits(key, starts[c], stops[c], &cancel[0])
