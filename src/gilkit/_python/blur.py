"""Box blur with edge clamping by separable running sums (twin of ext/blur.pyx)."""

import math

from . import Cancel, Items, MutableItems

POLL_EVERY = 1 << 16  # values summed between two looks at the cancel flag (a window can be huge)


def box_blur_rows(image: Items[float], out: MutableItems[float], height: int, width: int, radius: int,
                  row_start: int, row_stop: int, cancel: Cancel) -> None:
    """Rows [row_start, row_stop) of the blurred ``height`` x ``width`` row-major image, or stop early
    once cancel[0] is set.

    Each output pixel is the mean of the (2r+1) x (2r+1) window around it, coordinates outside the image
    clamped to the nearest edge, computed by running sums in this order of operations:

    * column sums: for row_start, col[j] = 0.0 + x[i-r][j] + ... + x[i+r][j] (rows clamped), added in
      that order; for each later row i, col[j] = (col[j] + x[i+r][j]) - x[i-r-1][j];
    * the row of column sums is padded with r copies of its first and of its last value;
    * horizontal sums along the padded row: run = 0.0 + padded[0] + ... + padded[2r], then for each
      next pixel run = (run + the value entering the window) - the value leaving it;
    * each pixel is run / (2r+1)**2.

    The column sums restart at every chunk and the horizontal sums at every row, so the rounding error
    stays bounded by the magnitudes summed since the restart and never depends on the workers.

    A NaN or an infinity would stay in a running sum after its pixel left the window, so a chunk with a
    result that is not finite is computed again with every sum direct (restarted at every row and
    pixel). A running sum that is not finite stays so (NaN stays NaN, inf stays inf or becomes NaN) and
    every column sum of a row enters its horizontal sum, so a row has such a result exactly when its
    last horizontal sum is not finite: that one value is checked.
    """
    if not _blur_rows(image, out, height, width, radius, row_start, row_stop, cancel, direct=False):
        _blur_rows(image, out, height, width, radius, row_start, row_stop, cancel, direct=True)


def _blur_rows(image: Items[float], out: MutableItems[float], height: int, width: int, radius: int,
               row_start: int, row_stop: int, cancel: Cancel, direct: bool) -> bool:
    """The rows by running sums, or by direct sums when ``direct``; False when a result may not be finite."""
    count = (2.0 * radius + 1.0) * (2.0 * radius + 1.0)
    window = 2 * radius + 1
    finite = True
    col = [0.0] * width
    for i in range(row_start, row_stop):
        if cancel[0]:
            return True
        if direct or i == row_start:
            col = [0.0] * width
            for di in range(-radius, radius + 1):
                if cancel[0]:
                    return True
                above = min(max(i + di, 0), height - 1) * width
                for j in range(width):
                    col[j] = col[j] + image[above + j]
        else:
            entering = min(i + radius, height - 1) * width
            leaving = max(i - radius - 1, 0) * width
            for j in range(width):
                col[j] = (col[j] + image[entering + j]) - image[leaving + j]
        padded = [col[0]] * radius + col + [col[-1]] * radius
        run = 0.0
        for j in range(width):
            if direct:
                run = 0.0
                for k in range(window):
                    if k % POLL_EVERY == POLL_EVERY - 1 and cancel[0]:
                        return True
                    run = run + padded[j + k]
            elif j == 0:
                for k in range(window):
                    if k % POLL_EVERY == POLL_EVERY - 1 and cancel[0]:
                        return True
                    run = run + padded[k]
            else:
                run = (run + padded[j + window - 1]) - padded[j - 1]
            out[i * width + j] = run / count
        finite = finite and math.isfinite(run)
    return finite
