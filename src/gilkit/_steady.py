"""Work of a known, steady length: Mandelbrot rows inside the set, calibrated on this machine.

Every pixel of a window inside the set iterates exactly ``max_iter`` times, so a chunk of rows costs
rows x width x max_iter iterations and nothing else. The demos use it for background work whose chunks
outlast a frame; the GIL tests use it for compiled calls long enough to be seen overlapping.
"""

import functools
import time
from typing import TypedDict

from . import kernels


class Window(TypedDict):
    xmin: float
    xmax: float
    ymin: float
    ymax: float


#: A window inside the Mandelbrot set: every pixel iterates max_iter times, so chunks are long and steady.
INSIDE = Window(xmin=-0.5, xmax=0.0, ymin=-0.2, ymax=0.2)


@functools.cache
def chunk_max_iter(width: int, seconds: float) -> int:
    """The max_iter that makes one chunk of ``width``-pixel rows inside the set take about ``seconds``
    in the compiled loop on this machine (its speed depends on the CPU and on the ISA variant)."""
    probe_iter = 1000
    per_row = min(_seconds_per_call(width, probe_iter) for _ in range(3))
    rows = kernels.MANDELBROT_ROWS_PER_CHUNK
    return min(kernels.MAX_ITER, max(probe_iter, round(probe_iter * seconds / (rows * per_row))))


def _seconds_per_call(width: int, max_iter: int) -> float:
    start = time.perf_counter()
    kernels.mandelbrot(width, 1, max_iter=max_iter, **INSIDE)
    return time.perf_counter() - start
