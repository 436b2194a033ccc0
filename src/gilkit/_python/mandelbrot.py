"""Mandelbrot escape counts, row by row (twin of ext/mandelbrot.pyx)."""

from . import Cancel, MutableItems

POLL_EVERY = 1 << 16  # iterations between two looks at the cancel flag


def mandelbrot_rows(out: MutableItems[int], first_row: int, first_column: int, width: int, max_iter: int,
                    xmin: float, ymin: float, dx: float, dy: float, row_start: int, row_stop: int,
                    cancel: Cancel) -> None:
    """Fill rows [row_start, row_stop) of ``out``, a row-major tile ``width`` pixels wide whose pixel (0, 0) is
    the image's pixel (first_row, first_column), or stop early once cancel[0] is set.

    The image's pixel (i, j) is c = (xmin + j*dx) + (ymin + i*dy)·1j; its value is the number of updates
    z <- z*z + c, starting from z = 0, made before |z|^2 > 4 is first seen, capped at max_iter.
    """
    for i in range(row_start, row_stop):
        if cancel[0]:
            return
        ci = ymin + (first_row + i) * dy
        for j in range(width):
            cr = xmin + (first_column + j) * dx
            zr = 0.0
            zi = 0.0
            n = 0
            while n < max_iter:
                if zr * zr + zi * zi > 4.0:
                    break
                if n % POLL_EVERY == POLL_EVERY - 1 and cancel[0]:
                    return
                t = zr * zr - zi * zi + cr
                zi = 2.0 * zr * zi + ci
                zr = t
                n += 1
            out[i * width + j] = n
