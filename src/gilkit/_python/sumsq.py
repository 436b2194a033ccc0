"""Sum of squares in sixteen interleaved accumulators (twin of ext/sumsq.pyx)."""

from . import Cancel, Items

ACCUMULATORS = 16


def sum_squares_chunk(values: Items[float], start: int, stop: int, cancel: Cancel) -> float:
    """values[start]**2 + ... + values[stop-1]**2, in this order of additions: value k goes to accumulator
    (k - start) % 16, each accumulator adds its squares in order, then they are combined pairwise,
    a[l] + a[l + half] for half = 8, 4, 2, 1. A chunk is a bounded pass over memory: ``cancel`` (taken like
    every chunk function's) is not polled."""
    acc = [0.0] * ACCUMULATORS
    for k in range(start, stop):
        x = values[k]
        acc[(k - start) % ACCUMULATORS] += x * x
    half = ACCUMULATORS // 2
    while half >= 1:
        for lane in range(half):
            acc[lane] = acc[lane] + acc[lane + half]
        half //= 2
    return acc[0]
