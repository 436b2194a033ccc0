"""Native Mandelbrot escape counts; the pure-Python twin is gilkit/_python/mandelbrot.py.

The loop iterates LANES pixels of a row in lockstep, so the compiler can keep them in SIMD registers.
A lane whose pixel has escaped stops counting (its `alive` flag drops to 0 and never rises again),
and the block ends when every lane has escaped or max_iter is reached: each pixel's count is exactly
the scalar definition in the twin. Dead lanes keep iterating harmlessly; their values are never read.
"""

from cython.parallel cimport prange

from _spans cimport cancelled, check_cancel, check_chunks, check_span, rows_of

cdef enum:
    LANES = 16
    POLL_EVERY = 1 << 16  # iterations between two looks at the cancel flag (a power of two)


cdef void _mandelbrot_block(int *out, Py_ssize_t lanes, double cr0, double dx, Py_ssize_t j0, double ci,
                            int max_iter, const int *cancel) noexcept nogil:
    """Pixels j0 .. j0+lanes-1 (lanes <= LANES) of one row, written to out[0 .. lanes-1]."""
    cdef double cr[LANES]
    cdef double zr[LANES]
    cdef double zi[LANES]
    cdef double t, zr2, zi2
    cdef long long count[LANES]
    cdef long long alive[LANES]
    cdef long long any_alive
    cdef Py_ssize_t lane
    cdef int n
    for lane in range(LANES):
        # Lanes past the end of the row repeat its last pixel: never stored, they cannot end the block late.
        cr[lane] = cr0 + (j0 + min(lane, lanes - 1)) * dx
        zr[lane] = 0.0
        zi[lane] = 0.0
        count[lane] = 0
        alive[lane] = 1
    for n in range(max_iter):
        any_alive = 0
        for lane in range(LANES):
            zr2 = zr[lane] * zr[lane]
            zi2 = zi[lane] * zi[lane]
            alive[lane] &= not (zr2 + zi2 > 4.0)
            count[lane] += alive[lane]
            any_alive |= alive[lane]
            t = zr2 - zi2 + cr[lane]
            zi[lane] = 2.0 * zr[lane] * zi[lane] + ci
            zr[lane] = t
        if not any_alive or (n % POLL_EVERY == POLL_EVERY - 1 and cancelled(cancel)):
            break
    for lane in range(lanes):
        out[lane] = <int> count[lane]


cdef void _mandelbrot_rows(int *out, Py_ssize_t first_row, Py_ssize_t first_column, Py_ssize_t width, int max_iter,
                           double xmin, double ymin, double dx, double dy, Py_ssize_t row_start, Py_ssize_t row_stop,
                           const int *cancel) noexcept nogil:
    """The C function behind mandelbrot_rows: plain C types only, so ctypes can call it (c_function_address)."""
    cdef Py_ssize_t i, j0, block
    cdef double ci
    for i in range(row_start, row_stop):
        ci = ymin + (first_row + i) * dy
        for block in range((width + LANES - 1) // LANES):
            if cancelled(cancel):
                return
            j0 = block * LANES
            _mandelbrot_block(out + i * width + j0, min(<Py_ssize_t> LANES, width - j0), xmin, dx, first_column + j0,
                              ci, max_iter, cancel)


def mandelbrot_rows(int[::1] out, Py_ssize_t first_row, Py_ssize_t first_column, Py_ssize_t width, int max_iter,
                    double xmin, double ymin, double dx, double dy, Py_ssize_t row_start, Py_ssize_t row_stop,
                    const int[::1] cancel, *, bint release_gil=True):
    """Fill rows [row_start, row_stop) of ``out``, a row-major tile ``width`` pixels wide whose pixel (0, 0) is
    the image's pixel (first_row, first_column), or stop early once cancel[0] is set."""
    check_span(row_start, row_stop, rows_of(out.shape[0], width))
    check_cancel(cancel)
    if row_start == row_stop:
        return  # out may be empty: no first element to point at
    if release_gil:
        with nogil:
            _mandelbrot_rows(&out[0], first_row, first_column, width, max_iter, xmin, ymin, dx, dy, row_start,
                             row_stop, &cancel[0])
    else:
        _mandelbrot_rows(&out[0], first_row, first_column, width, max_iter, xmin, ymin, dx, dy, row_start, row_stop,
                         &cancel[0])


def c_function_address():
    """The address of the C function behind mandelbrot_rows, for ctypes (gilkit demo ctypes):

    void (int *out, Py_ssize_t first_row, Py_ssize_t first_column, Py_ssize_t width, int max_iter, double xmin,
          double ymin, double dx, double dy, Py_ssize_t row_start, Py_ssize_t row_stop, const int *cancel)

    It checks nothing: rows [row_start, row_stop) of ``width`` ints each must lie inside ``out``.
    """
    return <size_t> &_mandelbrot_rows


def mandelbrot_rows_openmp(int[::1] out, Py_ssize_t first_row, Py_ssize_t first_column, Py_ssize_t width,
                           int max_iter, double xmin, double ymin, double dx, double dy, const long long[::1] starts,
                           const long long[::1] stops, int num_threads, const int[::1] cancel):
    """Every chunk of rows [starts[c], stops[c]) in one call: an OpenMP prange over the chunks."""
    cdef Py_ssize_t c
    check_chunks(starts, stops, rows_of(out.shape[0], width))
    check_cancel(cancel)
    if out.shape[0] == 0:
        return
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="dynamic"):
        _mandelbrot_rows(&out[0], first_row, first_column, width, max_iter, xmin, ymin, dx, dy, starts[c], stops[c],
                         &cancel[0])
