"""Native histogram counting into a private array; the pure-Python twin is gilkit/_python/histogram.py.

Used by `gilkit demo locks`: each thread fills its own counts without the GIL, then merges them
under a lock once, the pattern that keeps shared data correct and the lock held for the smallest scope.
"""

from _spans cimport check_span


cdef void _histogram_counts(const double[::1] values, double lo, double width, long long[::1] counts,
                            Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef Py_ssize_t k, bins = counts.shape[0]
    cdef long long b
    cdef double x, top = lo + bins * width
    for k in range(start, stop):
        x = values[k]
        if lo <= x < top:
            b = <long long> ((x - lo) / width)
            if b < bins:
                counts[b] += 1


def histogram_counts(const double[::1] values, double lo, double width, long long[::1] counts,
                     Py_ssize_t start, Py_ssize_t stop, *, bint release_gil=True):
    """Add to counts[b] one for each values[k], start <= k < stop, with lo + b*width <= x < lo + (b+1)*width."""
    check_span(start, stop, values.shape[0])
    if not width > 0:
        raise ValueError("width must be > 0")
    if release_gil:
        with nogil:
            _histogram_counts(values, lo, width, counts, start, stop)
    else:
        _histogram_counts(values, lo, width, counts, start, stop)
