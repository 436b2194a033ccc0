"""Box blur with edge clamping (twin of ext/blur.pyx)."""


def box_blur_rows(image, out, height, width, radius, row_start, row_stop):
    """Rows [row_start, row_stop) of the blurred ``height`` x ``width`` row-major image.

    Each output pixel is the mean of the (2r+1) x (2r+1) window around it, with coordinates outside
    the image clamped to the nearest edge; the window is summed row by row, left to right.
    """
    count = (2.0 * radius + 1.0) * (2.0 * radius + 1.0)
    for i in range(row_start, row_stop):
        for j in range(width):
            acc = 0.0
            for di in range(-radius, radius + 1):
                ii = min(max(i + di, 0), height - 1)
                for dj in range(-radius, radius + 1):
                    jj = min(max(j + dj, 0), width - 1)
                    acc += image[ii * width + jj]
            out[i * width + j] = acc / count
