"""Box blur with edge clamping by separable running sums (twin of ext/blur.pyx)."""


def box_blur_rows(image, out, height, width, radius, row_start, row_stop):
    """Rows [row_start, row_stop) of the blurred ``height`` x ``width`` row-major image.

    Each output pixel is the mean of the (2r+1) x (2r+1) window around it, coordinates outside the image
    clamped to the nearest edge, computed by running sums in this order of operations:

    * column sums: for row_start, col[j] = 0.0 + x[i-r][j] + ... + x[i+r][j] (rows clamped), added in
      that order; for each later row i, col[j] = (col[j] + x[i+r][j]) - x[i-r-1][j];
    * the row of column sums is padded with r copies of its first and of its last value;
    * horizontal sums along the padded row: run = 0.0 + padded[0] + ... + padded[2r], then for each
      next pixel run = (run + the value entering the window) - the value leaving it;
    * each pixel is run / (2r+1)**2.

    The column sums restart at every chunk and the horizontal sums at every row, so the rounding error
    stays bounded (within about 1e-15 of the window's magnitude) and never depends on the workers.
    """
    count = (2.0 * radius + 1.0) * (2.0 * radius + 1.0)
    col = [0.0] * width
    for i in range(row_start, row_stop):
        if i == row_start:
            for di in range(-radius, radius + 1):
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
        for k in range(2 * radius + 1):
            run = run + padded[k]
        out[i * width] = run / count
        for j in range(1, width):
            run = (run + padded[j + 2 * radius]) - padded[j - 1]
            out[i * width + j] = run / count
