"""Every kernel x every impl x workers in {1, 2, 3} against the independent references."""

import math

import numpy as np
import pytest
import reference
from reference import same_bits
from support import needs_native, unaligned

import gilkit
from gilkit._python.primes import L1_BLOCK_BYTES
from gilkit.kernels import (
    BLUR_ROWS_PER_CHUNK,
    MANDELBROT_ROWS_PER_CHUNK,
    PRIMES_PER_SEGMENT,
    SEGMENT_BYTES,
    SUM_SQUARES_PER_CHUNK,
    blur_rows_per_chunk,
)


@pytest.mark.parametrize(
    "width, height",
    [(1, 1), (3, 1), (1, MANDELBROT_ROWS_PER_CHUNK + 1), (37, 2 * MANDELBROT_ROWS_PER_CHUNK - 1), (64, 48)],
    ids=lambda v: str(v),
)
def test_mandelbrot_matches_reference(impl, workers, width, height):
    image = gilkit.mandelbrot(width, height, max_iter=64, impl=impl, workers=workers)
    assert image.dtype == np.int32 and image.shape == (height, width)
    np.testing.assert_array_equal(image, reference.mandelbrot(width, height, max_iter=64))


def test_mandelbrot_window_and_zero_iterations(impl, workers):
    window = {"xmin": -0.75, "xmax": -0.7, "ymin": 0.1, "ymax": 0.15}
    image = gilkit.mandelbrot(23, 19, max_iter=200, impl=impl, workers=workers, **window)
    np.testing.assert_array_equal(image, reference.mandelbrot(23, 19, 200, **window))
    assert not gilkit.mandelbrot(5, 4, max_iter=0, impl=impl, workers=workers).any()


@pytest.mark.parametrize("rows, columns", [((0, 7), (0, 37)), ((5, 19), (3, 20)), ((18, 19), (36, 37))],
                         ids=lambda v: str(v))
def test_a_mandelbrot_tile_is_its_slice_of_the_image_bit_for_bit(impl, rows, columns):
    grid = gilkit.kernels.MandelbrotGrid.checked(37, 19, 200, -0.75, -0.7, 0.1, 0.15)
    image = gilkit.mandelbrot(37, 19, max_iter=200, xmin=-0.75, xmax=-0.7, ymin=0.1, ymax=0.15, impl=impl)
    np.testing.assert_array_equal(grid.tile(rows, columns, impl), image[slice(*rows), slice(*columns)])


def test_mandelbrot_inside_points_reach_max_iter(impl):
    # c = -0.5 + 0j lies inside the main cardioid, c = 1 + 0j escapes after 3 updates (0, 1, 2, 5).
    inside = gilkit.mandelbrot(1, 1, max_iter=50, xmin=-0.5, xmax=-0.4, ymin=0.0, ymax=0.1, impl=impl)
    outside = gilkit.mandelbrot(1, 1, max_iter=50, xmin=1.0, xmax=1.1, ymin=0.0, ymax=0.1, impl=impl)
    assert inside[0, 0] == 50
    assert outside[0, 0] == 3


@pytest.mark.parametrize(
    "n, expected", [(-5, 0), (0, 0), (1, 0), (2, 1), (3, 2), (4, 2), (10, 4), (100, 25), (7919, 1000)]
)
def test_count_primes_small(impl, workers, n, expected):
    assert gilkit.count_primes(n, impl=impl, workers=workers) == expected


@pytest.mark.parametrize("n", [PRIMES_PER_SEGMENT + 1, 2 * PRIMES_PER_SEGMENT + 3])
def test_count_primes_across_segment_edges(impl, workers, n):
    assert gilkit.count_primes(n, impl=impl, workers=workers) == reference.count_primes(n)


def test_count_primes_between_small_bounds(impl, primes_below):
    """Windows that start among the patterns' primes (7 .. 127), which are crossed off and set back on."""
    base = gilkit.kernels.base_primes(300)
    for start in range(0, 260, 3):
        stop = start + 37
        assert gilkit.kernels.count_primes_between(base, start, stop, impl) == primes_below[stop] - primes_below[start]


def test_count_primes_in_one_chunk_of_several_segments(impl, primes_below):
    start, stop = 12345, 2 * PRIMES_PER_SEGMENT + 6789
    chunk = gilkit._implementations.kernel_module(impl, "primes").count_primes_segment
    count = chunk(gilkit.kernels.base_primes(stop), SEGMENT_BYTES, start, stop, np.zeros(1, dtype=np.intc))
    assert count == primes_below[stop] - primes_below[start]


@pytest.mark.parametrize("segment_bytes, stop", [(1, 40_000), (7, 400_000), (64, 400_000), (1000, 400_000),
                                                 (L1_BLOCK_BYTES + 7232, 3_000_000)],
                         ids=["1 byte", "7 bytes", "64 bytes", "1000 bytes", "L1 blocks and a part"])
def test_count_primes_does_not_depend_on_the_segment_size(impl, primes_below, segment_bytes, stop):
    """The segment follows the machine's cache (sieve_segment_bytes), and the small primes cross it off
    L1_BLOCK_BYTES at a time: every size must count alike."""
    start = 12345
    chunk = gilkit._implementations.kernel_module(impl, "primes").count_primes_segment
    count = chunk(gilkit.kernels.base_primes(stop), segment_bytes, start, stop, np.zeros(1, dtype=np.intc))
    assert count == primes_below[stop] - primes_below[start]


@pytest.mark.parametrize("l2_bytes, segment_bytes", [(None, 256 << 10), (512 << 10, 256 << 10), (1 << 20, 512 << 10),
                                                     (3 << 20, 1 << 20), (16 << 10, 32 << 10), (1 << 30, 4 << 20)])
def test_sieve_segment_is_half_the_l2_cache_within_bounds(l2_bytes, segment_bytes):
    assert gilkit.kernels.sieve_segment_bytes(l2_bytes) == segment_bytes


@pytest.fixture(scope="module")
def primes_below():
    """primes_below[m]: how many primes are < m, for m up to three segments."""
    return np.concatenate([[0], np.cumsum(reference.is_prime(3 * PRIMES_PER_SEGMENT))])


@pytest.mark.parametrize("edge", [0, PRIMES_PER_SEGMENT, 2 * PRIMES_PER_SEGMENT], ids=lambda e: f"edge={e}")
@pytest.mark.parametrize("below, above", [(0, 1), (1, 0), (1, 1), (29, 31), (30, 30), (31, 29), (61, 1000)])
def test_count_primes_between_any_bounds(impl, primes_below, edge, below, above):
    """Windows that start and stop anywhere in a byte of the wheel, across the sieve's segments."""
    base = gilkit.kernels.base_primes(3 * PRIMES_PER_SEGMENT)
    start, stop = max(edge - below, 0), edge + above
    expected = primes_below[stop] - primes_below[start]
    assert gilkit.kernels.count_primes_between(base, start, stop, impl) == expected


def test_count_primes_between_takes_unaligned_base_primes(impl):
    n = gilkit.kernels.PRIMES_PER_SEGMENT + 999
    primes = unaligned(gilkit.kernels.base_primes(n))
    assert gilkit.kernels.count_primes_between(primes, 0, n + 1, impl) == reference.count_primes(n)


def test_count_primes_known_values():
    assert gilkit.count_primes(10**7, impl="python" if not gilkit.NATIVE_AVAILABLE else "native") == 664579
    assert gilkit.count_primes(np.int64(10**6), impl="python") == 78498


@needs_native
def test_count_primes_of_2_to_the_32():
    # Many chunks of several segments each, and sieving primes up to 65,521: far more than one turn of the
    # wheel fits in a segment for the small ones, less than one for the largest.
    assert gilkit.count_primes(2**32, workers=2) == 203_280_221


@pytest.mark.parametrize("samples", [1, 2, 1000, 300_001], ids=lambda s: f"samples={s}")
@pytest.mark.parametrize("seed", [0, 12345, 2**64 - 1], ids=lambda s: f"seed={s}")
def test_estimate_pi_matches_reference(impl, workers, samples, seed):
    estimate = gilkit.estimate_pi(samples, seed=seed, impl=impl, workers=workers)
    assert same_bits(estimate, reference.estimate_pi(samples, seed))


def test_estimate_pi_converges_and_seeds_differ():
    impl = gilkit.ACTIVE_IMPLEMENTATION
    samples = 2_000_000
    estimate = gilkit.estimate_pi(samples, impl=impl, workers=2)
    sigma = 4.0 * math.sqrt(math.pi / 4 * (1 - math.pi / 4) / samples)
    assert abs(estimate - math.pi) < 6 * sigma
    assert gilkit.estimate_pi(10_000, seed=1, impl=impl) != gilkit.estimate_pi(10_000, seed=2, impl=impl)


BLUR_CASES = [
    ((1, 1), 0), ((1, 1), 3), ((1, 7), 2), ((20, 13), 4), ((6, 6), 10),
    ((2 * BLUR_ROWS_PER_CHUNK + 11, 5), 1),  # three chunks of running column sums
    ((blur_rows_per_chunk(40) + 3, 19), 40),  # a taller chunk for a taller window
]


@pytest.mark.parametrize("shape, radius", BLUR_CASES, ids=lambda v: str(v))
def test_box_blur_is_the_window_mean_within_rounding(impl, workers, shape, radius):
    image = np.random.default_rng(sum(shape) + radius).normal(size=shape)
    blurred = gilkit.box_blur(image, radius, impl=impl, workers=workers)
    assert blurred.dtype == np.float64 and blurred.shape == shape and blurred.flags.c_contiguous
    # Running sums round differently from a direct sum: within 1e-12 of the window's magnitude.
    error = np.abs(blurred - reference.box_blur(image, radius))
    assert np.all(error <= 1e-12 * reference.box_blur(np.abs(image), radius)), error.max()


@pytest.mark.parametrize("shape, radius", BLUR_CASES, ids=lambda v: str(v))
def test_box_blur_of_small_integers_is_exact(impl, workers, shape, radius):
    # Every running sum of small integers is exact, so only the final division rounds, as in the reference.
    image = np.random.default_rng(sum(shape) * 7 + radius).integers(-1000, 1000, size=shape)
    assert same_bits(gilkit.box_blur(image, radius, impl=impl, workers=workers), reference.box_blur(image, radius))


@pytest.mark.parametrize("radius", [2, 5], ids=lambda r: f"r={r}")  # sums along the rows direct, running
def test_box_blur_nan_and_infinity_stay_inside_their_windows(impl, workers, radius):
    image = np.random.default_rng(3).normal(size=(2 * BLUR_ROWS_PER_CHUNK + 5, 21))
    image[5, 3], image[70, 10], image[71, 12] = np.nan, np.inf, -np.inf
    blurred, direct = gilkit.box_blur(image, radius, impl=impl, workers=workers), reference.box_blur(image, radius)
    assert np.array_equal(np.isnan(blurred), np.isnan(direct)) and np.array_equal(np.isinf(blurred), np.isinf(direct))
    # r=2: the NaN's window (25), and where the +inf's and -inf's windows overlap (4 x 3). r=5: the same,
    # cut by the image's edge.
    assert np.isnan(direct).sum() == {2: 25 + 4 * 3, 5: 189}[radius]
    finite = np.isfinite(direct)
    assert np.allclose(blurred[finite], direct[finite], rtol=0, atol=1e-12 * np.abs(image[np.isfinite(image)]).max())


@pytest.mark.parametrize(
    "make_image",
    [
        lambda: np.arange(35, dtype=np.int16).reshape(5, 7),
        lambda: np.arange(35, dtype=np.float32).reshape(7, 5).T,
        lambda: np.arange(140.0).reshape(10, 14)[::2, ::3],
        lambda: np.asfortranarray(np.arange(35.0).reshape(5, 7)),
        lambda: np.eye(6, dtype=bool),
        lambda: [[1, 2, 3], [4, 5, 6]],
        lambda: unaligned(np.arange(35.0)).reshape(5, 7),
    ],
    ids=["int16", "float32-transposed", "strided", "fortran", "bool", "nested-list", "unaligned"],
)
def test_box_blur_accepts_any_real_layout_and_never_modifies_input(impl, make_image):
    image = make_image()
    before = np.array(image, copy=True)
    blurred = gilkit.box_blur(image, 1, impl=impl, workers=2)
    assert same_bits(blurred, reference.box_blur(before, 1))
    np.testing.assert_array_equal(np.asarray(image), before)


def test_box_blur_constant_image_stays_constant(impl):
    assert same_bits(gilkit.box_blur(np.full((9, 4), 2.5), 2, impl=impl), np.full((9, 4), 2.5))


@pytest.mark.parametrize(
    "size",
    [0, 1, SUM_SQUARES_PER_CHUNK - 1, SUM_SQUARES_PER_CHUNK, SUM_SQUARES_PER_CHUNK + 1, 3 * SUM_SQUARES_PER_CHUNK + 7],
)
def test_sum_squares_matches_reference(impl, workers, size):
    values = np.random.default_rng(size).normal(size=size)
    result = gilkit.sum_squares(values, impl=impl, workers=workers)
    assert isinstance(result, float)
    assert same_bits(result, reference.sum_squares(values))


def test_sum_squares_inputs(impl):
    assert gilkit.sum_squares([1, 2, 3], impl=impl) == 14.0
    assert gilkit.sum_squares(np.arange(10.0)[::3], impl=impl) == 0 + 9 + 36 + 81
    assert gilkit.sum_squares(unaligned(np.arange(4.0)), impl=impl) == 14.0
    assert gilkit.sum_squares(np.array([], dtype=np.int8), impl=impl) == 0.0
    assert math.isnan(gilkit.sum_squares([1.0, float("nan")], impl=impl))
    assert gilkit.sum_squares([1e200, 1.0], impl=impl) == math.inf
