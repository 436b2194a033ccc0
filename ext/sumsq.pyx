"""Native sum of squares; the pure-Python twin is gilkit/_python/sumsq.py.

The definition (the order of every addition, so the result is the same bit for bit everywhere): value
k of a chunk goes to accumulator (k - start) % ACCUMULATORS, each accumulator adds its squares in
order, and the accumulators are then combined pairwise, a[l] + a[l + half] for half = 8, 4, 2, 1.
Sixteen independent sums let the compiler stream memory in SIMD registers instead of waiting on the
latency of one floating-point add after another.
"""

from cython.parallel cimport prange

from _spans cimport cancelled, check_cancel, check_chunks, check_span

cdef enum:
    ACCUMULATORS = 16


cdef double _sum_squares_chunk(const double[::1] values, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef double acc[ACCUMULATORS]
    cdef const double *x = &values[0] if stop > start else NULL
    cdef Py_ssize_t k, lane, half, full = start + (stop - start) // ACCUMULATORS * ACCUMULATORS
    for lane in range(ACCUMULATORS):
        acc[lane] = 0.0
    k = start
    while k < full:
        for lane in range(ACCUMULATORS):
            acc[lane] += x[k + lane] * x[k + lane]
        k += ACCUMULATORS
    for lane in range(stop - full):
        acc[lane] += x[full + lane] * x[full + lane]
    half = ACCUMULATORS // 2
    while half >= 1:
        for lane in range(half):
            acc[lane] = acc[lane] + acc[lane + half]
        half //= 2
    return acc[0]


def sum_squares_chunk(const double[::1] values, Py_ssize_t start, Py_ssize_t stop, const int[::1] cancel, *,
                      bint release_gil=True):
    """values[start]**2 + ... + values[stop-1]**2, in sixteen interleaved sums (see the module docstring).

    A chunk is a bounded pass over memory, so it does not poll ``cancel`` (taken like every chunk function's).
    """
    cdef double acc
    check_span(start, stop, values.shape[0])
    check_cancel(cancel)
    if release_gil:
        with nogil:
            acc = _sum_squares_chunk(values, start, stop)
    else:
        acc = _sum_squares_chunk(values, start, stop)
    return acc


def sum_squares_chunk_openmp(const double[::1] values, const long long[::1] starts, const long long[::1] stops,
                             double[::1] sums, int num_threads, const int[::1] cancel):
    """Every chunk in one call (an OpenMP prange); sums[c] receives chunk c's partial sum."""
    cdef Py_ssize_t c
    check_chunks(starts, stops, values.shape[0])
    check_span(0, starts.shape[0], sums.shape[0])
    check_cancel(cancel)
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="static"):
        if not cancelled(&cancel[0]):
            sums[c] = _sum_squares_chunk(values, starts[c], stops[c])
