"""Sum of squares (twin of ext/sumsq.pyx)."""


def sum_squares_chunk(values, start, stop):
    """values[start]**2 + ... + values[stop-1]**2, added left to right."""
    acc = 0.0
    for k in range(start, stop):
        x = values[k]
        acc += x * x
    return acc
