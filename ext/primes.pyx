"""Native segmented sieve; the pure-Python twin is gilkit/_python/primes.py."""

from cython.parallel cimport prange
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from _spans cimport check_chunks, check_span

# Keeps p * p and m + p inside long long for every prime p with p * p < hi.
cdef long long LIMIT = 1LL << 62


cdef long long _count_primes_segment(const long long[::1] base_primes, long long lo, long long hi) noexcept nogil:
    """Primes in [lo, hi), crossing off multiples of the base primes; -1 when memory runs out."""
    cdef long long size = hi - lo
    cdef long long p, start, m, k, count = 0
    cdef Py_ssize_t b
    cdef unsigned char *is_prime
    if size <= 0:
        return 0
    is_prime = <unsigned char *> malloc(size)
    if is_prime == NULL:
        return -1
    memset(is_prime, 1, size)
    for b in range(base_primes.shape[0]):
        p = base_primes[b]
        if p * p >= hi:
            break
        start = p * p
        if start < lo:
            start = (lo + p - 1) // p * p
        m = start
        while m < hi:
            is_prime[m - lo] = 0
            m += p
    k = 2 - lo if lo < 2 else 0
    while k < size:
        count += is_prime[k]
        k += 1
    free(is_prime)
    return count


def count_primes_segment(const long long[::1] base_primes, long long lo, long long hi, *, bint release_gil=True):
    """How many primes lie in [lo, hi), given every prime p with p*p < hi in ascending order."""
    cdef long long count
    check_span(lo, hi, LIMIT)
    if release_gil:
        with nogil:
            count = _count_primes_segment(base_primes, lo, hi)
    else:
        count = _count_primes_segment(base_primes, lo, hi)
    if count < 0:
        raise MemoryError(f"no memory for a sieve segment of {hi - lo} numbers")
    return count


def count_primes_segment_openmp(const long long[::1] base_primes, const long long[::1] starts,
                                const long long[::1] stops, long long[::1] counts, int num_threads):
    """Every segment [starts[c], stops[c]) in one call (an OpenMP prange); counts[c] receives its count."""
    cdef Py_ssize_t c
    check_chunks(starts, stops, LIMIT)
    check_span(0, starts.shape[0], counts.shape[0])
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="dynamic"):
        counts[c] = _count_primes_segment(base_primes, starts[c], stops[c])
    for c in range(starts.shape[0]):
        if counts[c] < 0:
            raise MemoryError(f"no memory for a sieve segment of {stops[c] - starts[c]} numbers")
