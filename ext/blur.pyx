"""Native box blur with edge clamping; the pure-Python twin is gilkit/_python/blur.py."""

from cython.parallel cimport prange

from _spans cimport check_chunks, check_span, rows_of


cdef void _box_blur_rows(const double[::1] image, double[::1] out, Py_ssize_t height, Py_ssize_t width,
                         Py_ssize_t radius, Py_ssize_t row_start, Py_ssize_t row_stop) noexcept nogil:
    cdef Py_ssize_t i, j, di, dj, ii, jj
    cdef double acc
    cdef double count = (2.0 * radius + 1.0) * (2.0 * radius + 1.0)
    for i in range(row_start, row_stop):
        for j in range(width):
            acc = 0.0
            for di in range(-radius, radius + 1):
                ii = min(max(i + di, 0), height - 1)
                for dj in range(-radius, radius + 1):
                    jj = min(max(j + dj, 0), width - 1)
                    acc += image[ii * width + jj]
            out[i * width + j] = acc / count


cdef int _check_images(const double[::1] image, double[::1] out, Py_ssize_t height, Py_ssize_t width,
                       Py_ssize_t radius) except -1:
    if out.shape[0] != image.shape[0] or rows_of(image.shape[0], width) != height:
        raise ValueError(f"image and out must both hold {height} rows of {width} values")
    if radius < 0:
        raise ValueError("radius must be >= 0")
    return 0


def box_blur_rows(const double[::1] image, double[::1] out, Py_ssize_t height, Py_ssize_t width,
                  Py_ssize_t radius, Py_ssize_t row_start, Py_ssize_t row_stop, *, bint release_gil=True):
    """Rows [row_start, row_stop) of the blurred ``height`` x ``width`` row-major image."""
    _check_images(image, out, height, width, radius)
    check_span(row_start, row_stop, height)
    if release_gil:
        with nogil:
            _box_blur_rows(image, out, height, width, radius, row_start, row_stop)
    else:
        _box_blur_rows(image, out, height, width, radius, row_start, row_stop)


def box_blur_rows_openmp(const double[::1] image, double[::1] out, Py_ssize_t height, Py_ssize_t width,
                         Py_ssize_t radius, const long long[::1] starts, const long long[::1] stops,
                         int num_threads):
    """Every chunk of rows in one call: an OpenMP prange over the chunks."""
    cdef Py_ssize_t c
    _check_images(image, out, height, width, radius)
    check_chunks(starts, stops, height)
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="dynamic"):
        _box_blur_rows(image, out, height, width, radius, starts[c], stops[c])
