"""Native box blur with edge clamping; the pure-Python twin is gilkit/_python/blur.py.

Separable running sums, so the cost per pixel barely grows with the radius (the definition, operation
for operation, is the twin's docstring, including the direct sums that redo a chunk whose result is
not all finite). The twin handles one row at a time; here the running sums along ROWS_AT_ONCE rows
advance together, independent chains the CPU overlaps, the column sums are updated a whole row at a
time, and the means are divided and written eight at a time: none of it changes any pixel's operations.
"""

from cython.parallel cimport prange
from libc.math cimport isfinite
from libc.stdlib cimport calloc, free

from _spans cimport cancelled, check_cancel, check_chunks, check_span, rows_of

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define gilkit_prefetch(address) __builtin_prefetch(address)
    #else
    #define gilkit_prefetch(address) ((void)0)
    #endif
    """
    void prefetch "gilkit_prefetch" (const void *address) noexcept nogil


cdef extern from *:
    """
    #if defined(__SSE2__) || defined(_M_X64)
    #include <immintrin.h>
    #endif

    /* dest[0..8) = src[0..8) / divisor (IEEE divisions, as the twin's), dest 64-byte aligned. With ``stream``
       the stores bypass the caches: no read of the lines they fill, no eviction of rows still to be read. */
    static inline void gilkit_store_eight_quotients(double *dest, const double *src, double divisor, int stream)
    {
    #if defined(__AVX512F__)
        __m512d q = _mm512_div_pd(_mm512_loadu_pd(src), _mm512_set1_pd(divisor));
        if (stream) _mm512_stream_pd(dest, q); else _mm512_store_pd(dest, q);
    #elif defined(__AVX__)
        for (int k = 0; k < 8; k += 4) {
            __m256d q = _mm256_div_pd(_mm256_loadu_pd(src + k), _mm256_set1_pd(divisor));
            if (stream) _mm256_stream_pd(dest + k, q); else _mm256_store_pd(dest + k, q);
        }
    #elif defined(__SSE2__) || defined(_M_X64)
        for (int k = 0; k < 8; k += 2) {
            __m128d q = _mm_div_pd(_mm_loadu_pd(src + k), _mm_set1_pd(divisor));
            if (stream) _mm_stream_pd(dest + k, q); else _mm_store_pd(dest + k, q);
        }
    #else
        for (int k = 0; k < 8; k++)
            dest[k] = src[k] / divisor;
    #endif
    }

    /* Streamed stores are not ordered with later ones: fence them before another thread may read. */
    static inline void gilkit_streamed_stores_done(void)
    {
    #if defined(__SSE2__) || defined(_M_X64)
        _mm_sfence();
    #endif
    }
    """
    void store_eight_quotients "gilkit_store_eight_quotients" (
        double *dest, const double *src, double divisor, bint stream) noexcept nogil
    void streamed_stores_done "gilkit_streamed_stores_done" () noexcept nogil

cdef enum:
    ROWS_AT_ONCE = 8
    POLL_EVERY = 1 << 16  # values summed between two looks at the cancel flag (a window can be huge)
    # Rows read a window this large ago (and the results written since) have left a core's L2 cache.
    FAR_WINDOW_BYTES = 1 << 18
    # The means of an image this large are written past the caches (a smaller one's reader may find it
    # there).
    STREAMED_IMAGE_BYTES = 1 << 23


cdef inline Py_ssize_t _clamp(Py_ssize_t k, Py_ssize_t size) noexcept nogil:
    return min(max(k, 0), size - 1)


cdef void _column_sums(const double *image, double *col, const double *previous, Py_ssize_t height,
                       Py_ssize_t width, Py_ssize_t radius, Py_ssize_t i, bint restart,
                       const int *cancel) noexcept nogil:
    """Row i's sums over the 2r+1 rows around it, then r copies of each edge value on either side."""
    cdef const double *add
    cdef const double *sub
    cdef Py_ssize_t j, di
    if restart:
        for j in range(width):
            col[j] = 0.0
        for di in range(-radius, radius + 1):
            if cancelled(cancel):
                return
            add = image + _clamp(i + di, height) * width
            for j in range(width):
                col[j] = col[j] + add[j]
    else:
        add = image + _clamp(i + radius, height) * width
        sub = image + _clamp(i - radius - 1, height) * width
        for j in range(width):
            col[j] = (previous[j] + add[j]) - sub[j]
    for j in range(1, radius + 1):
        col[-j] = col[0]
        col[width - 1 + j] = col[width - 1]


cdef bint _blur_chunk(const double *image, double *out, Py_ssize_t height, Py_ssize_t width, Py_ssize_t radius,
                      Py_ssize_t row_start, Py_ssize_t row_stop, double *sums, bint direct,
                      const int *cancel) noexcept nogil:
    """Rows [row_start, row_stop), every sum direct when ``direct``; True when a result may not be finite
    (the twin's docstring says how that is told). ``sums`` holds ROWS_AT_ONCE + 1 rows of width + 2r
    values: a group's column sums, and, where the running row sums overwrite them, the last one again for
    the next group's first row to continue from."""
    cdef Py_ssize_t padded = width + 2 * radius, window = 2 * radius + 1
    cdef double *carried = sums + ROWS_AT_ONCE * padded
    cdef double run[ROWS_AT_ONCE]
    cdef double first[ROWS_AT_ONCE]
    cdef double count = (2.0 * radius + 1.0) * (2.0 * radius + 1.0)
    cdef double total
    cdef double *p
    cdef double *dest
    cdef const char *entering
    cdef const char *leaving
    cdef Py_ssize_t start, rows, g, j, jb, k, entering_bytes, leaving_bytes, blocks_end
    cdef Py_ssize_t block[ROWS_AT_ONCE]
    cdef bint aligned = <size_t> out % sizeof(double) == 0
    cdef bint stream = height * width * <Py_ssize_t> sizeof(double) >= STREAMED_IMAGE_BYTES
    cdef bint far = window * width * <Py_ssize_t> sizeof(double) >= FAR_WINDOW_BYTES
    cdef bint nonfinite = False
    start = row_start
    while start < row_stop and not cancelled(cancel):
        rows = min(<Py_ssize_t> ROWS_AT_ONCE, row_stop - start)
        if direct:
            for g in range(rows):
                _column_sums(image, sums + radius, NULL, height, width, radius, start + g, True, cancel)
                dest = out + (start + g) * width
                for j in range(width):
                    total = 0.0
                    for k in range(window):
                        if k % POLL_EVERY == POLL_EVERY - 1 and cancelled(cancel):
                            return False
                        total = total + sums[j + k]
                    dest[j] = total / count
        else:
            for g in range(rows):
                _column_sums(image, sums + g * padded + radius,
                             (carried if g == 0 else sums + (g - 1) * padded) + radius, height, width, radius,
                             start + g, start + g == row_start, cancel)
            for j in range(width):  # before the row is overwritten
                carried[radius + j] = sums[(rows - 1) * padded + radius + j]
            # The rows' running sums advance together (independent chains the CPU overlaps), the first
            # ones too (a wide window's 2r+1 additions a row), pixel j's sum written where the value that
            # just left its window was (p[j - 1]), pixel 0's kept aside: no other buffer, so the eight
            # chains need no more registers than they have.
            for g in range(ROWS_AT_ONCE):
                run[g] = 0.0
            for k in range(window):
                if k % POLL_EVERY == POLL_EVERY - 1 and cancelled(cancel):
                    return False
                for g in range(ROWS_AT_ONCE):
                    run[g] = run[g] + sums[g * padded + k]
            for g in range(ROWS_AT_ONCE):
                first[g] = run[g]
            # The next group's entering rows follow one another in memory, and so do its leaving rows
            # (a far window's are out of the L2 cache by now): they are asked for now, a cache line a
            # step (8 rows are ``width`` lines), and arrive while these sums are added.
            entering = <const char *> (image + min(start + ROWS_AT_ONCE + radius, height - 1) * width)
            leaving = <const char *> (image + max(start + ROWS_AT_ONCE - radius - 1, 0) * width)
            entering_bytes = (image + height * width - <const double *> entering) * sizeof(double)
            leaving_bytes = (image + height * width - <const double *> leaving) * sizeof(double) if far else 0
            # Every 8 steps each row's next 8 means are divided and written, a 64-byte aligned block
            # (row g's from column block[g] in 1..8 on) at least 9 columns behind the sums, whose stores
            # have reached the cache by then: the divisions and the writes to memory overlap the
            # additions. The columns before the first block and after the last are written below.
            for g in range(rows):
                block[g] = 1 + (64 - <size_t> (out + (start + g) * width + 1) % 64) % 64 // 8 if aligned else width
            blocks_end = 0  # the columns the blocks have covered, the same for every row
            for jb in range(1, width, 8):
                for j in range(jb, min(jb + 8, width)):
                    if 64 * j < entering_bytes:
                        prefetch(entering + 64 * j)
                    if 64 * j < leaving_bytes:
                        prefetch(leaving + 64 * j)
                    for g in range(ROWS_AT_ONCE):
                        p = sums + g * padded
                        run[g] = (run[g] + p[j + window - 1]) - p[j - 1]
                        p[j - 1] = run[g]
                if aligned and jb >= 17 and jb + 7 < width:
                    for g in range(rows):
                        k = block[g] + jb - 17
                        store_eight_quotients(out + (start + g) * width + k, sums + g * padded + k - 1, count, stream)
                    blocks_end += 8
            for g in range(rows):
                nonfinite |= not isfinite(run[g])
                p = sums + g * padded
                dest = out + (start + g) * width
                dest[0] = first[g] / count
                for j in range(1, min(block[g], width)):
                    dest[j] = p[j - 1] / count
                for j in range(block[g] + blocks_end, width):
                    dest[j] = p[j - 1] / count
        start += ROWS_AT_ONCE
    streamed_stores_done()
    return nonfinite


cdef int _box_blur_rows(const double[::1] image, double[::1] out, Py_ssize_t height, Py_ssize_t width,
                        Py_ssize_t radius, Py_ssize_t row_start, Py_ssize_t row_stop, const int *cancel) noexcept nogil:
    """Rows [row_start, row_stop) of the blurred image; -1 when memory runs out."""
    cdef double *sums = <double *> calloc((ROWS_AT_ONCE + 1) * (width + 2 * radius), sizeof(double))
    if sums == NULL:
        return -1
    if _blur_chunk(&image[0], &out[0], height, width, radius, row_start, row_stop, sums, False, cancel):
        # A NaN or an infinity stays in a running sum after its pixel has left the window.
        _blur_chunk(&image[0], &out[0], height, width, radius, row_start, row_stop, sums, True, cancel)
    free(sums)
    return 0


cdef int _check_images(const double[::1] image, double[::1] out, Py_ssize_t height, Py_ssize_t width,
                       Py_ssize_t radius) except -1:
    if out.shape[0] != image.shape[0] or rows_of(image.shape[0], width) != height:
        raise ValueError(f"image and out must both hold {height} rows of {width} values")
    if radius < 0:
        raise ValueError("radius must be >= 0")
    return 0


cdef int _raise_no_memory(Py_ssize_t width, Py_ssize_t radius) except -1:
    raise MemoryError(f"no memory for the running sums of {ROWS_AT_ONCE + 1} rows of {width + 2 * radius} values")


def box_blur_rows(const double[::1] image, double[::1] out, Py_ssize_t height, Py_ssize_t width,
                  Py_ssize_t radius, Py_ssize_t row_start, Py_ssize_t row_stop, const int[::1] cancel, *,
                  bint release_gil=True):
    """Rows [row_start, row_stop) of the blurred ``height`` x ``width`` row-major image (running sums
    restarted at row_start), or stop early once cancel[0] is set."""
    cdef int status
    _check_images(image, out, height, width, radius)
    check_span(row_start, row_stop, height)
    check_cancel(cancel)
    if row_start == row_stop:
        return
    if release_gil:
        with nogil:
            status = _box_blur_rows(image, out, height, width, radius, row_start, row_stop, &cancel[0])
    else:
        status = _box_blur_rows(image, out, height, width, radius, row_start, row_stop, &cancel[0])
    if status < 0:
        _raise_no_memory(width, radius)


def box_blur_rows_openmp(const double[::1] image, double[::1] out, Py_ssize_t height, Py_ssize_t width,
                         Py_ssize_t radius, const long long[::1] starts, const long long[::1] stops,
                         int num_threads, const int[::1] cancel):
    """Every chunk of rows in one call: an OpenMP prange over the chunks."""
    cdef Py_ssize_t c
    cdef int failures = 0
    _check_images(image, out, height, width, radius)
    check_chunks(starts, stops, height)
    check_cancel(cancel)
    for c in prange(starts.shape[0], nogil=True, num_threads=num_threads, schedule="dynamic"):
        if starts[c] < stops[c]:
            failures += _box_blur_rows(image, out, height, width, radius, starts[c], stops[c], &cancel[0]) < 0
    if failures:
        _raise_no_memory(width, radius)
