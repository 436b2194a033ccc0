"""The public kernels: validate once, split into fixed chunks, hand the chunks to an executor.

Every kernel takes the keyword-only arguments

* ``impl``: ``"native"`` (compiled loop, GIL released), ``"native-gil"`` (the same compiled loop with
  the GIL held: the control) or ``"python"`` (the pure-Python twin);
* ``workers``: how many threads (or processes, or OpenMP threads) share the chunks; 1 runs them inline;
* ``mode``: ``"threads"``, ``"processes"`` (a process pool, arrays in shared memory) or ``"openmp"``
  (one nogil call with a ``prange`` over the chunks; ``impl="native"`` only).

Results are identical for every impl, workers and mode: integers exactly, floats bit for bit.
"""

import functools
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _cpus, _validate
from ._arithmetic import ceil_div
from ._executor import ChunkPlan, Chunks, run
from ._implementations import Impl, kernel_module
from ._python.primes import WHEEL
from ._validate import Mode

__all__ = ["box_blur", "count_primes", "estimate_pi", "mandelbrot", "sum_squares"]

#: Chunk sizes: fixed, so the split (and the order of every floating-point sum) never depends on workers.
MANDELBROT_ROWS_PER_CHUNK = 8
PI_SAMPLES_PER_CHUNK = 1 << 18
BLUR_ROWS_PER_CHUNK = 64  # or taller for a tall window: see blur_rows_per_chunk
SUM_SQUARES_PER_CHUNK = 1 << 16

#: Largest n / samples accepted: keeps every index and p*p inside a signed 64-bit integer.
MAX_COUNT = 1 << 62  # GILKIT_MAX_COUNT in ext/_spans.pxd
INT32_MAX = (1 << 31) - 1
#: Largest width or height (the compiled loops index rows and columns with int32) and max_iter (int32 counts).
MAX_SIDE = INT32_MAX
MAX_ITER = INT32_MAX

def mandelbrot(width: int, height: int, *, max_iter: int = 256, xmin: float = -2.0, xmax: float = 1.0,
               ymin: float = -1.25, ymax: float = 1.25, impl: Impl = "native", workers: int = 1,
               mode: Mode = "threads") -> NDArray[np.int32]:
    """Escape counts of the Mandelbrot iteration over a ``height`` x ``width`` grid (int32).

    Pixel (i, j) is c = (xmin + j*dx) + (ymin + i*dy)·1j with dx = (xmax-xmin)/width and
    dy = (ymax-ymin)/height; its value is how many updates z <- z*z + c (from z = 0) happen before
    |z|^2 > 4 is first seen, capped at ``max_iter``. Chunks are blocks of 8 rows.
    """
    grid = MandelbrotGrid.checked(width, height, max_iter, xmin, xmax, ymin, ymax)
    impl, workers, mode = _validate.execution(impl, workers, mode)
    return grid.tile((0, grid.height), (0, grid.width), impl, workers, mode)


@dataclass(frozen=True)
class MandelbrotGrid:
    """mandelbrot's arguments, checked: the image any tile of it (a task of gilkit.dask) is cut from."""

    width: int
    height: int
    max_iter: int
    xmin: float
    xmax: float
    ymin: float
    ymax: float

    @classmethod
    def checked(cls, width: object, height: object, max_iter: object, xmin: object, xmax: object, ymin: object,
                ymax: object) -> "MandelbrotGrid":
        return cls(
            _validate.integer("width", width, minimum=1, maximum=MAX_SIDE),
            _validate.integer("height", height, minimum=1, maximum=MAX_SIDE),
            _validate.integer("max_iter", max_iter, minimum=0, maximum=MAX_ITER),
            *_window("x", xmin, xmax),
            *_window("y", ymin, ymax),
        )

    def tile(self, rows: tuple[int, int], columns: tuple[int, int], impl: Impl, workers: int = 1,
             mode: Mode = "threads") -> NDArray[np.int32]:
        """Pixels [rows[0], rows[1]) x [columns[0], columns[1]) of the image: bit for bit what mandelbrot
        gives there, since every pixel's c comes from its own row and column in the whole image."""
        (first_row, row_stop), (first_column, column_stop) = rows, columns
        height, width = row_stop - first_row, column_stop - first_column
        _validate.fits_in_memory("width * height", 4 * width * height, f"a {height} x {width} int32 image")
        dx, dy = mandelbrot_steps(self.width, self.height, self.xmin, self.xmax, self.ymin, self.ymax)
        out = np.empty(height * width, dtype=np.int32)
        job = MANDELBROT_PLAN.job(
            MANDELBROT_PLAN.chunks(0, height), arrays=(out,),
            params=(first_row, first_column, width, self.max_iter, self.xmin, self.ymin, dx, dy), outputs=(0,),
        )
        run(job, impl, workers, mode)
        return out.reshape(height, width)


def mandelbrot_steps(width: int, height: int, xmin: float, xmax: float, ymin: float, ymax: float
                     ) -> tuple[float, float]:
    """(dx, dy), the steps between neighbouring pixels that every mandelbrot chunk function takes: whoever
    calls one directly computes them here, so its pixels get exactly the bits mandelbrot gives."""
    return (xmax - xmin) / width, (ymax - ymin) / height


def _window(axis: str, low: object, high: object) -> tuple[float, float]:
    low = _validate.finite_real(f"{axis}min", low)
    high = _validate.finite_real(f"{axis}max", high)
    if not low < high:
        raise ValueError(f"{axis}min must be < {axis}max, got {axis}min={low} and {axis}max={high}")
    if not math.isfinite(high - low):
        raise ValueError(f"{axis}max - {axis}min must be finite, got {axis}min={low} and {axis}max={high}")
    return low, high


def sieve_segment_bytes(l2_bytes: int | None) -> int:
    """Bytes of sieve (30 numbers each) that count_primes crosses off at once: the largest power of two
    up to half the L2 cache, from 32 KiB to 4 MiB; 256 KiB where the cache size is unknown.

    The segment and the sieving primes' places share the L2 cache. Measured: on a 1 MiB L2 (AMD EPYC,
    family 25 model 17), 512 KiB beat 256 KiB and 1 MiB by 8-15% at 10^9 and 10^10; on a 512 KiB L2 (an
    earlier AMD EPYC), 256 KiB beat 128 and 512 KiB.
    """
    if l2_bytes is None:
        return 1 << 18
    return 1 << min(max((l2_bytes // 2).bit_length() - 1, 15), 22)


#: A core's L2 cache on this machine (None where unknown), read once; the bytes of one segment of the
#: sieve it sizes, and the numbers that segment covers (30 a byte).
L2_CACHE_BYTES = _cpus.l2_cache_bytes()
SEGMENT_BYTES = sieve_segment_bytes(L2_CACHE_BYTES)
PRIMES_PER_SEGMENT = WHEEL * SEGMENT_BYTES


def count_primes(n: int, *, impl: Impl = "native", workers: int = 1, mode: Mode = "threads") -> int:
    """How many primes are <= n (0 for n < 2), by a segmented sieve on a mod-30 wheel: 8 bits for every
    30 numbers, segments of SEGMENT_BYTES (half the L2 cache: sieve_segment_bytes), the multiples of
    7 .. 127 taken from repeating patterns (gilkit._python.primes explains it). Memory: 8 bytes for each
    prime up to sqrt(n), and for every worker a segment and 16 more for each of those primes."""
    n = _validate.integer("n", n, maximum=MAX_COUNT)
    impl, workers, mode = _validate.execution(impl, workers, mode)
    if n < 2:
        return 0
    check_base_primes_fit(n, workers)
    return count_primes_between(base_primes(n), 0, n + 1, impl, workers, mode)


def check_base_primes_fit(n: int, workers: int = 1) -> None:
    """The base primes up to sqrt(n) are int64, found block by block and joined, and each worker keeps 16
    bytes for each of them (where its next multiple lies)."""
    _validate.fits_in_memory("n", (8 + 16 * workers) * primes_at_most(math.isqrt(n)),
                             "the base primes up to sqrt(n) and each worker's place in their multiples")


def primes_at_most(x: int) -> int:
    """An upper bound on how many primes are <= x: 1.25506 x / ln x (Rosser and Schoenfeld, 1962)."""
    return 0 if x < 2 else math.ceil(1.25506 * x / math.log(x))


def base_primes(n: int) -> NDArray[np.int64]:
    """The primes up to sqrt(n): every segment up to n is sieved by them."""
    check_base_primes_fit(n)
    return _small_primes(math.isqrt(n))


def count_primes_between(base_primes: NDArray[np.int64], start: int, stop: int, impl: Impl, workers: int = 1,
                         mode: Mode = "threads") -> int:
    """How many primes lie in [start, stop) (stop - 1 at most the n of ``base_primes``), in chunks of
    primes_per_chunk(stop) numbers from start, as count_primes sieves them."""
    job = PRIMES_PLAN.job(Chunks(start, stop, primes_per_chunk(stop)), arrays=(base_primes,),
                          params=(SEGMENT_BYTES,))
    return run(job, impl, workers, mode)


def primes_per_chunk(n: int) -> int:
    """Numbers a count_primes chunk covers: up to 16 segments' worth, a sixteenth of n (whole bytes of the
    wheel), so that workers have chunks to share; beyond, whole segments, one more for every 16,384 of
    sqrt(n).

    A chunk starts by finding each base prime's first multiple in it, a division each; growing the
    chunk with sqrt(n), about as fast as the number of base primes, keeps that near 1% of the sieving.
    """
    if n < 16 * PRIMES_PER_SEGMENT:
        return WHEEL * max(1, ceil_div(n, 16 * WHEEL))
    return PRIMES_PER_SEGMENT * max(1, math.isqrt(n) >> 14)


#: Numbers a block of the base sieve covers: every NumPy step stays short, so Ctrl-C is seen between them.
BASE_SIEVE_BLOCK = 1 << 22


def _small_primes(limit: int) -> NDArray[np.int64]:
    """The primes <= limit (limit <= 2**31) as int64: the base primes of the segments.

    The primes up to sqrt(limit) by a plain sieve, then the rest in blocks crossed off by those.
    """
    seed_limit = math.isqrt(limit)
    is_prime = np.ones(seed_limit + 1, dtype=bool)
    is_prime[:2] = False
    for p in range(2, math.isqrt(seed_limit) + 1):
        if is_prime[p]:
            is_prime[p * p :: p] = False
    seeds = np.flatnonzero(is_prime)
    found = [seeds]
    for lo in range(seed_limit + 1, limit + 1, BASE_SIEVE_BLOCK):
        hi = min(lo + BASE_SIEVE_BLOCK, limit + 1)
        block = np.ones(hi - lo, dtype=bool)
        for p in seeds.tolist():
            if p * p >= hi:
                break
            block[max(p * p, ceil_div(lo, p) * p) - lo :: p] = False
        found.append(np.flatnonzero(block) + lo)
    return np.concatenate(found).astype(np.int64)


def estimate_pi(samples: int, *, seed: int = 0, impl: Impl = "native", workers: int = 1,
                mode: Mode = "threads") -> float:
    """4 * hits / samples, where a hit is a random point of the unit square inside the quarter circle.

    The points come from a counter-based splitmix64 stream keyed by ``seed``, so the estimate depends
    only on (samples, seed): never on impl, workers or mode.
    """
    samples = _validate.integer("samples", samples, minimum=1, maximum=MAX_COUNT)
    seed = _validate.integer("seed", seed, minimum=0, maximum=(1 << 64) - 1)
    impl, workers, mode = _validate.execution(impl, workers, mode)
    key = kernel_module(impl, "montecarlo").stream_key(seed)
    return pi_from_hits(count_hits_between(key, 0, samples, impl, workers, mode), samples)


def count_hits_between(key: int, start: int, stop: int, impl: Impl, workers: int = 1, mode: Mode = "threads") -> int:
    """How many of the samples start .. stop-1 of the stream ``key`` hit the quarter circle."""
    return run(PI_PLAN.job(PI_PLAN.chunks(start, stop), params=(key,)), impl, workers, mode)


def pi_from_hits(hits: int, samples: int) -> float:
    return 4.0 * hits / samples


def box_blur(image: ArrayLike, radius: int, *, impl: Impl = "native", workers: int = 1,
             mode: Mode = "threads") -> NDArray[np.float64]:
    """Mean over the (2r+1) x (2r+1) window around each pixel of a 2-D real image, edges clamped.

    The image is read as float64 (any dtype of bool, int, uint or float; any strides) and never
    modified; the result is a new C-contiguous float64 array of the same shape. The means come from
    separable running sums (the order of operations is in gilkit._python.blur), restarted at every
    chunk of rows (:func:`blur_rows_per_chunk`) and every row: the cost per pixel barely grows with the
    radius, and each value is within about 1e-15 of the window's magnitude from the direct mean.
    """
    pixels = _validate.real_array("image", image, ndim=2)
    _validate.not_empty("image", pixels.shape)
    radius = _validate.integer("radius", radius, minimum=0, maximum=MAX_SIDE)
    impl, workers, mode = _validate.execution(impl, workers, mode)
    height, width = pixels.shape
    return blur_rows(pixels, Chunks(0, height, blur_rows_per_chunk(radius)), radius, impl, workers, mode)


def blur_rows(pixels: NDArray[np.float64], rows: Chunks, radius: int, impl: Impl, workers: int = 1,
              mode: Mode = "threads") -> NDArray[np.float64]:
    """The blurred image's rows in ``rows``, restarting the running sums at each of its chunks; the rows
    outside it are left unset. ``pixels`` is a C-contiguous float64 image."""
    height, width = pixels.shape
    check_running_sums_fit(width, radius, min(workers, len(rows)))
    out = np.empty(height * width, dtype=np.float64)
    run(BLUR_PLAN.job(rows, arrays=(pixels.reshape(-1), out), params=(height, width, radius), outputs=(1,)),
        impl, workers, mode)
    return out.reshape(height, width)


def check_running_sums_fit(width: int, radius: int, chunks_at_once: int) -> None:
    # Each chunk at work holds 9 rows of running sums, padded by r on both sides (ext/blur.pyx).
    _validate.fits_in_memory("radius", 9 * 8 * (width + 2 * radius) * chunks_at_once,
                             f"the running sums for radius {radius}")


def blur_rows_per_chunk(radius: int) -> int:
    """Rows per box_blur chunk: 64, or the next multiple of 64 at least four times as tall as the window.

    Each chunk restarts its running column sums with a full window of 2r+1 rows, read again from memory;
    a chunk four times that tall keeps the restart below a quarter of a row's work per row, whatever the
    radius (2000 x 2000, r = 25 and 100: 4-6% faster on one worker than chunks twice as tall, as fast or
    faster on two).
    """
    return BLUR_PLAN.chunk_size * ceil_div(4 * (2 * radius + 1), BLUR_PLAN.chunk_size)


def sum_squares(values: ArrayLike, *, impl: Impl = "native", workers: int = 1, mode: Mode = "threads") -> float:
    """Sum of x**2 over a 1-D real array: chunks of 65,536 values, each summed left to right, then the
    chunk sums added in order (so the result is the same for every workers and mode)."""
    array = _validate.real_array("values", values, ndim=1)
    impl, workers, mode = _validate.execution(impl, workers, mode)
    return add_in_order(square_sums_by_chunk(array, impl, workers, mode))


def square_sums_by_chunk(array: NDArray[np.float64], impl: Impl, workers: int = 1,
                         mode: Mode = "threads") -> list[float]:
    """Each chunk's sum of squares, in chunk order: chunks of 65,536 values from array[0] on."""
    job = SUM_SQUARES_PLAN.job(SUM_SQUARES_PLAN.chunks(0, array.size), arrays=(array,))
    return run(job, impl, workers, mode)


def _append(partials: list[float], value: float) -> list[float]:
    partials.append(value)
    return partials


def add_in_order(partials: Iterable[float]) -> float:
    """0.0 + partials[0] + partials[1] + ..., left to right: not sum(), which compensates on Python >= 3.12."""
    return float(functools.reduce(operator.add, partials, 0.0))


#: How each kernel's work is cut into chunks and put back together (the registry lists them with their
#: kernels): fixed sizes, so the split, and the order of every floating-point sum, never depend on workers.
MANDELBROT_PLAN = ChunkPlan("mandelbrot", "mandelbrot_rows", MANDELBROT_ROWS_PER_CHUNK)
PRIMES_PLAN = ChunkPlan("primes", "count_primes_segment", PRIMES_PER_SEGMENT, np.int64, operator.add, int)
PI_PLAN = ChunkPlan("montecarlo", "count_hits", PI_SAMPLES_PER_CHUNK, np.int64, operator.add, int)
BLUR_PLAN = ChunkPlan("blur", "box_blur_rows", BLUR_ROWS_PER_CHUNK)  # or taller: see blur_rows_per_chunk
SUM_SQUARES_PLAN = ChunkPlan("sumsq", "sum_squares_chunk", SUM_SQUARES_PER_CHUNK, np.float64, _append, list)

