# Memory-safety guard shared by the def wrappers: the nogil loops index without bounds checks,
# so every (start, stop) span is proven to lie inside its buffer before a loop starts.

cdef inline int check_span(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t size) except -1:
    if not 0 <= start <= stop <= size:
        raise IndexError(f"span [{start}, {stop}) does not lie inside a buffer of {size} items")
    return 0


cdef inline int check_chunks(const long long[::1] starts, const long long[::1] stops, Py_ssize_t size) except -1:
    cdef Py_ssize_t c
    if starts.shape[0] != stops.shape[0]:
        raise ValueError("starts and stops must have the same length")
    for c in range(starts.shape[0]):
        check_span(starts[c], stops[c], size)
    return 0


cdef inline Py_ssize_t rows_of(Py_ssize_t size, Py_ssize_t width) except -1:
    if width <= 0 or size % width != 0:
        raise ValueError(f"a buffer of {size} items does not hold whole rows of width {width}")
    return size // width


cdef extern from *:
    """
    /* The largest n (count_primes) and sample index (estimate_pi): every index, p * p and m + p stays
       inside a signed 64-bit integer (gilkit.kernels.MAX_COUNT on the Python side). */
    #define GILKIT_MAX_COUNT (1LL << 62)
    """
    long long MAX_COUNT "GILKIT_MAX_COUNT"


cdef extern from *:
    """
    /* A read the compiler cannot hoist out of a loop: a signal handler or another thread sets the flag. */
    static inline int gilkit_cancelled(const int *flag) { return *(const volatile int *)flag != 0; }
    """
    # Every nogil loop that can run long polls its call's flag and returns early once it is set; the
    # caller then discards the partial result (see gilkit._cancel).
    bint cancelled "gilkit_cancelled" (const int *flag) noexcept nogil


cdef inline int check_cancel(const int[::1] cancel) except -1:
    if cancel.shape[0] != 1:
        raise ValueError("cancel must hold exactly one int")
    return 0
