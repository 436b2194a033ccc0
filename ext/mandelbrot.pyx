"""Native Mandelbrot escape counts; the pure-Python twin is gilkit/_python/mandelbrot.py."""

from cython.parallel cimport prange

from _spans cimport check_chunks, check_span, rows_of


cdef void _mandelbrot_rows(int[::1] out, Py_ssize_t width, int max_iter, double xmin, double ymin, double dx,
                           double dy, Py_ssize_t row_start, Py_ssize_t row_stop) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef int n
    cdef double cr, ci, zr, zi, t
    for i in range(row_start, row_stop):
        ci = ymin + i * dy
        for j in range(width):
            cr = xmin + j * dx
            zr = 0.0
            zi = 0.0
            n = 0
            while n < max_iter:
                if zr * zr + zi * zi > 4.0:
                    break
                t = zr * zr - zi * zi + cr
                zi = 2.0 * zr * zi + ci
                zr = t
                n += 1
            out[i * width + j] = n


def mandelbrot_rows(int[::1] out, Py_ssize_t width, int max_iter, double xmin, double ymin, double dx, double dy,
                    Py_ssize_t row_start, Py_ssize_t row_stop, *, bint release_gil=True):
    """Fill rows [row_start, row_stop) of the row-major image ``out`` (``width`` pixels a row)."""
    check_span(row_start, row_stop, rows_of(out.shape[0], width))
    if release_gil:
        with nogil:
            _mandelbrot_rows(out, width, max_iter, xmin, ymin, dx, dy, row_start, row_stop)
    else:
        _mandelbrot_rows(out, width, max_iter, xmin, ymin, dx, dy, row_start, row_stop)


def mandelbrot_rows_openmp(int[::1] out, Py_ssize_t width, int max_iter, double xmin, double ymin, double dx,
                           double dy, const long long[::1] starts, const long long[::1] stops, int num_threads):
    """Every chunk of rows [starts[c], stops[c]) in one call: an OpenMP prange over the chunks."""
    cdef Py_ssize_t c
    check_chunks(starts, stops, rows_of(out.shape[0], width))
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="dynamic"):
        _mandelbrot_rows(out, width, max_iter, xmin, ymin, dx, dy, starts[c], stops[c])
