"""Independent references, written with NumPy array operations (not the kernels' loops).

Each follows the documented definition and the documented order of floating-point operations, so the
kernels must match them exactly (integers) or bit for bit (floats).
"""

import math

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)


def mandelbrot(width, height, max_iter=256, xmin=-2.0, xmax=1.0, ymin=-1.25, ymax=1.25):
    dx = (xmax - xmin) / width
    dy = (ymax - ymin) / height
    cr, ci = np.meshgrid(xmin + np.arange(width) * dx, ymin + np.arange(height) * dy)
    zr = np.zeros_like(cr)
    zi = np.zeros_like(cr)
    counts = np.zeros(cr.shape, dtype=np.int32)
    running = np.ones(cr.shape, dtype=bool)
    for _ in range(max_iter):
        running &= ~(zr * zr + zi * zi > 4.0)
        if not running.any():
            break
        zr, zi = np.where(running, zr * zr - zi * zi + cr, zr), np.where(running, 2.0 * zr * zi + ci, zi)
        counts += running
    return counts


def is_prime(n):
    """is_prime(n)[m]: whether m is prime, for m < n (a plain sieve of Eratosthenes)."""
    sieve = np.ones(max(n, 2), dtype=bool)
    sieve[:2] = False
    for p in range(2, math.isqrt(n - 1) + 1 if n > 1 else 2):
        if sieve[p]:
            sieve[p * p :: p] = False
    return sieve[:n]


def count_primes(n):
    return int(is_prime(n + 1).sum()) if n >= 2 else 0


def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def estimate_pi(samples, seed=0):
    key = _mix(np.array([seed], dtype=np.uint64) + GAMMA)[0]
    k = np.arange(samples, dtype=np.uint64)

    def uniform(counter):
        return (_mix(key + counter * GAMMA) >> np.uint64(11)).astype(np.float64) * 2.0**-53

    x = uniform(2 * k + 1)
    y = uniform(2 * k + 2)
    return 4.0 * int(np.count_nonzero(x * x + y * y <= 1.0)) / samples


def box_blur(image, radius):
    image = np.asarray(image, dtype=np.float64)
    height, width = image.shape
    padded = np.pad(image, radius, mode="edge")
    acc = np.zeros((height, width))
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a window is NaN, as it should be
        for di in range(2 * radius + 1):
            for dj in range(2 * radius + 1):
                acc += padded[di : di + height, dj : dj + width]
    return acc / ((2.0 * radius + 1.0) * (2.0 * radius + 1.0))


def sum_squares(values, chunk=1 << 16, accumulators=16):
    """Chunk by chunk: value k of a chunk into accumulator k % 16, each summed in order, then the
    accumulators combined pairwise (8, 4, 2, 1 apart); the chunk sums added in order."""
    squares = np.asarray(values, dtype=np.float64) ** 2
    total = 0.0
    for start in range(0, squares.size, chunk):
        part = squares[start : start + chunk]
        # Zeros pad the last row of the (rows, 16) table: x + 0.0 == x for every square (never -0.0).
        table = np.zeros(-(-part.size // accumulators) * accumulators)
        table[: part.size] = part
        acc = np.cumsum(table.reshape(-1, accumulators), axis=0)[-1]  # cumsum adds strictly in order
        while acc.size > 1:
            acc = acc[: acc.size // 2] + acc[acc.size // 2 :]
        total += float(acc[0])
    return total


def same_bits(a, b):
    """Bit-for-bit equality of two float64 arrays or scalars (so -0.0 != 0.0), every NaN counting as the
    same: IEEE 754 leaves which NaN payload an operation returns to the compiler's order of operands."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    numbers = ~np.isnan(a)
    return np.array_equal(a[numbers].view(np.uint64), b[numbers].view(np.uint64))


def same_result(a, b):
    """Equal results of a kernel: integers and integer images exactly, floats bit for bit (see same_bits)."""
    if np.asarray(a).dtype.kind in "iu":
        return np.asarray(b).dtype == np.asarray(a).dtype and np.array_equal(a, b)
    return same_bits(a, b)
