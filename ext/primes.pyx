"""Native segmented sieve; the pure-Python twin is gilkit/_python/primes.py."""

from cython.parallel cimport prange
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from _spans cimport MAX_COUNT, cancelled, check_cancel, check_chunks, check_span

cdef enum:
    # The odd numbers' flags repeat with this period once the multiples of 3, 5, 7, 11 and 13 are off.
    PRESIEVE_PERIOD = 3 * 5 * 7 * 11 * 13
    PRESIEVE_COUNT = 5
    # The first base prime crossed off by the loop: 2 has no odd multiples, 3 .. 13 were pre-sieved.
    FIRST_CROSSED = 1 + PRESIEVE_COUNT
    POLL_EVERY = 1 << 12  # base primes between two looks at the cancel flag (a huge n has many)

cdef long long[PRESIEVE_COUNT] PRESIEVE_PRIMES = [3, 5, 7, 11, 13]
cdef unsigned char PRESIEVED[PRESIEVE_PERIOD]  # flag u stands for the odd number 2u + 1; filled at import


cdef void _fill_presieved() noexcept nogil:
    """As the twin's _presieved: q divides 2u + 1 exactly when u = q // 2 (mod q)."""
    cdef Py_ssize_t u, q
    memset(PRESIEVED, 1, PRESIEVE_PERIOD)
    for q in range(PRESIEVE_COUNT):
        u = PRESIEVE_PRIMES[q] // 2
        while u < PRESIEVE_PERIOD:
            PRESIEVED[u] = 0
            u += PRESIEVE_PRIMES[q]


_fill_presieved()


cdef long long _count_primes_segment(const long long[::1] base_primes, long long lo, long long hi,
                                     const int *cancel) noexcept nogil:
    """Primes in [lo, hi), crossing off odd multiples of the odd base primes; -1 when memory runs out."""
    cdef long long first = lo | 1  # the odd numbers first, first + 2, ... < hi: flag t is first + 2t
    cdef long long size = (hi - first + 1) // 2
    cdef long long p, m, t, run, u, count = 1 if lo <= 2 < hi else 0
    cdef Py_ssize_t b
    cdef unsigned char *is_prime
    if size <= 0:
        return count
    is_prime = <unsigned char *> malloc(size)
    if is_prime == NULL:
        return -1
    t = 0
    u = (first // 2) % PRESIEVE_PERIOD
    while t < size:
        run = min(PRESIEVE_PERIOD - u, size - t)
        memcpy(&is_prime[t], &PRESIEVED[u], run)
        t += run
        u = 0
    for b in range(PRESIEVE_COUNT):  # the pre-sieve crossed off 3, 5, 7, 11 and 13 themselves
        p = PRESIEVE_PRIMES[b]
        if first <= p < hi:
            is_prime[(p - first) // 2] = 1
    if first == 1:
        is_prime[0] = 0
    for b in range(FIRST_CROSSED, base_primes.shape[0]):
        p = base_primes[b]
        if p * p >= hi or (b % POLL_EVERY == 0 and cancelled(cancel)):
            break
        m = (lo + p - 1) // p * p  # the first multiple of p >= lo; the first odd one is m or m + p
        if m % 2 == 0:
            m += p
        if m < p * p:
            m = p * p
        t = (m - first) // 2
        while t < size:
            is_prime[t] = 0
            t += p
    for t in range(size):
        count += is_prime[t]
    free(is_prime)
    return count


def count_primes_segment(const long long[::1] base_primes, long long lo, long long hi, const int[::1] cancel, *,
                         bint release_gil=True):
    """How many primes lie in [lo, hi), given every prime p with p*p < hi in ascending order (a wrong
    count once cancel[0] is set)."""
    cdef long long count
    check_span(lo, hi, MAX_COUNT)
    check_cancel(cancel)
    if release_gil:
        with nogil:
            count = _count_primes_segment(base_primes, lo, hi, &cancel[0])
    else:
        count = _count_primes_segment(base_primes, lo, hi, &cancel[0])
    if count < 0:
        raise MemoryError(f"no memory for a sieve segment of {hi - lo} numbers")
    return count


def count_primes_segment_openmp(const long long[::1] base_primes, const long long[::1] starts,
                                const long long[::1] stops, long long[::1] counts, int num_threads,
                                const int[::1] cancel):
    """Every segment [starts[c], stops[c]) in one call (an OpenMP prange); counts[c] receives its count."""
    cdef Py_ssize_t c
    check_chunks(starts, stops, MAX_COUNT)
    check_span(0, starts.shape[0], counts.shape[0])
    check_cancel(cancel)
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="dynamic"):
        if not cancelled(&cancel[0]):
            counts[c] = _count_primes_segment(base_primes, starts[c], stops[c], &cancel[0])
    for c in range(starts.shape[0]):
        if counts[c] < 0:
            raise MemoryError(f"no memory for a sieve segment of {stops[c] - starts[c]} numbers")
