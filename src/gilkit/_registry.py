"""The kernel registry: one entry per public kernel, the single list that the CLI, the benchmark and the
tests read.

An entry names the kernel's chunk plan (the module and function that compute one chunk, the chunk's size,
how results fold: gilkit.kernels), how to build a problem of a given size (the call and how many items it
processes), the sizes `gilkit bench` runs, and the small size the tests run on every impl, mode and worker
count. From it the tests check that every compiled module has its stub and OpenMP sibling, that each twin
matches its stub, and that every instruction-set variant gives the twins' bits.

What a new kernel touches besides its entry here is listed in docs/extending.md ("Extending gilkit").
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import kernels
from ._executor import ChunkPlan


@dataclass(frozen=True)
class Problem:
    """One problem: ``call(impl=..., workers=..., mode=...)`` runs the kernel on it once."""

    call: Callable[..., Any]
    #: How many items (pixels, numbers, samples, values) one call processes: throughput = items / time.
    items: int
    #: The bytes of the arrays one call reads and writes (0: it works in a core's cache whatever its size).
    data_bytes: int = 0


@dataclass(frozen=True)
class Workload:
    kernel: str
    #: How its work is cut into chunks, and which compiled module and twin compute one.
    plan: ChunkPlan
    #: What the items are: "pixels", "numbers", ...
    unit: str
    #: A problem of ``size``: rows of an image, a count, or a length (see each entry).
    problem: Callable[[int], Problem]
    #: Sizes for `gilkit bench` (full, --quick): each call about 50-200 ms on the avx512 variant.
    native_sizes: tuple[int, int]
    #: The same for the pure-Python twin, which runs about 100x slower: compare impls by throughput.
    python_sizes: tuple[int, int]
    #: The tests' size: a few chunks, milliseconds on every impl.
    small_size: int

    def size(self, impl: str, quick: bool) -> int:
        sizes = self.python_sizes if impl == "python" else self.native_sizes
        return sizes[1 if quick else 0]

    def small(self) -> Problem:
        return self.problem(self.small_size)


def _mandelbrot(rows: int) -> Problem:
    width = rows * 4 // 3
    return Problem(lambda **how: kernels.mandelbrot(width, rows, max_iter=256, **how), width * rows, 4 * width * rows)


def _count_primes(n: int) -> Problem:
    return Problem(lambda **how: kernels.count_primes(n, **how), n)


def _estimate_pi(samples: int) -> Problem:
    return Problem(lambda **how: kernels.estimate_pi(samples, seed=1, **how), samples)


def _box_blur(side: int) -> Problem:
    image = np.random.default_rng(0).random((side, side))
    return Problem(lambda **how: kernels.box_blur(image, 3, **how), side * side, 2 * image.nbytes)


def _sum_squares(length: int) -> Problem:
    values = np.random.default_rng(0).random(length)
    return Problem(lambda **how: kernels.sum_squares(values, **how), length, values.nbytes)


WORKLOADS: dict[str, Workload] = {
    w.kernel: w
    for w in [
        Workload("mandelbrot", kernels.MANDELBROT_PLAN, "pixels", _mandelbrot, (1800, 900), (240, 80),
                 small_size=24),
        Workload("count_primes", kernels.PRIMES_PLAN, "numbers", _count_primes, (500_000_000, 150_000_000),
                 (8_000_000, 2_000_000), small_size=600_000),
        Workload("estimate_pi", kernels.PI_PLAN, "samples", _estimate_pi, (200_000_000, 60_000_000),
                 (1 << 20, 1 << 19), small_size=600_000),
        Workload("box_blur", kernels.BLUR_PLAN, "pixels", _box_blur, (5000, 2500), (800, 400), small_size=150),
        Workload("sum_squares", kernels.SUM_SQUARES_PLAN, "values", _sum_squares, (60_000_000, 20_000_000),
                 (1_000_000, 200_000), small_size=200_003),
    ]
}

#: The public kernels, in the order `gilkit bench` runs them.
KERNELS: tuple[str, ...] = tuple(WORKLOADS)
