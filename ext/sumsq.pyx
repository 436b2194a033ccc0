"""Native sum of squares; the pure-Python twin is gilkit/_python/sumsq.py."""

from cython.parallel cimport prange

from _spans cimport check_chunks, check_span


cdef double _sum_squares_chunk(const double[::1] values, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef Py_ssize_t k
    cdef double x, acc = 0.0
    for k in range(start, stop):
        x = values[k]
        acc += x * x
    return acc


def sum_squares_chunk(const double[::1] values, Py_ssize_t start, Py_ssize_t stop, *, bint release_gil=True):
    """values[start]**2 + ... + values[stop-1]**2, added left to right."""
    cdef double acc
    check_span(start, stop, values.shape[0])
    if release_gil:
        with nogil:
            acc = _sum_squares_chunk(values, start, stop)
    else:
        acc = _sum_squares_chunk(values, start, stop)
    return acc


def sum_squares_chunk_openmp(const double[::1] values, const long long[::1] starts, const long long[::1] stops,
                             double[::1] sums, int num_threads):
    """Every chunk in one call (an OpenMP prange); sums[c] receives chunk c's partial sum."""
    cdef Py_ssize_t c
    check_chunks(starts, stops, values.shape[0])
    check_span(0, starts.shape[0], sums.shape[0])
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="static"):
        sums[c] = _sum_squares_chunk(values, starts[c], stops[c])
