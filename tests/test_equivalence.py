"""Hypothesis: the native loops and their pure-Python twins agree bit for bit on random arguments."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import same_bits
from support import needs_native, unaligned

import gilkit

pytestmark = needs_native

finite = st.floats(min_value=-4.0, max_value=4.0, allow_nan=False, allow_infinity=False)
compiled = st.sampled_from(["native", "native-gil"])
workers = st.integers(1, 3)


@st.composite
def windows(draw):
    xmin, ymin = draw(finite), draw(finite)
    return {"xmin": xmin, "xmax": xmin + draw(st.floats(1e-6, 3.0)),
            "ymin": ymin, "ymax": ymin + draw(st.floats(1e-6, 3.0))}


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 24), st.integers(1, 20), st.integers(0, 60), windows(), compiled, workers)
def test_mandelbrot_twins_agree(width, height, max_iter, window, impl, workers):
    expected = gilkit.mandelbrot(width, height, max_iter=max_iter, impl="python", **window)
    actual = gilkit.mandelbrot(width, height, max_iter=max_iter, impl=impl, workers=workers, **window)
    np.testing.assert_array_equal(actual, expected)


@settings(max_examples=40, deadline=None)
@given(st.integers(-3, 3000), compiled, workers)
def test_count_primes_twins_agree(n, impl, workers):
    assert gilkit.count_primes(n, impl=impl, workers=workers) == gilkit.count_primes(n, impl="python")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**10), st.integers(0, 3000), compiled)
def test_count_primes_twins_agree_on_any_window(start, length, impl):
    base = gilkit.kernels.base_primes(start + length)
    between = functools.partial(gilkit.kernels.count_primes_between, base, start, start + length)
    assert between(impl) == between("python")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 2**64 - 1), compiled, workers)
def test_estimate_pi_twins_agree(samples, seed, impl, workers):
    assert same_bits(
        gilkit.estimate_pi(samples, seed=seed, impl=impl, workers=workers),
        gilkit.estimate_pi(samples, seed=seed, impl="python"),
    )


any_doubles = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 90)), elements=any_doubles),
       st.integers(0, 40), compiled, workers)
def test_box_blur_twins_agree(image, radius, impl, workers):
    # From 25 columns on, the native loop writes the means eight at a time into 64-byte aligned blocks,
    # each row's from its own column on (rows of an odd number of values start at different offsets).
    expected = gilkit.box_blur(image, radius, impl="python")
    assert same_bits(gilkit.box_blur(image, radius, impl=impl, workers=workers), expected)


def _blur_rows(impl, image, out, radius, rows):
    height, width = image.shape
    box_blur_rows = gilkit._implementations.chunk_function(impl, "blur", "box_blur_rows")
    box_blur_rows(image.reshape(-1), out, height, width, radius, *rows, NOT_CANCELLED)
    return out.reshape(height, width)[rows[0]:rows[1]]


@pytest.mark.parametrize("impl", ["native", "native-gil"])
def test_box_blur_twins_agree_where_the_means_bypass_the_caches(impl):
    # An image of 8 MiB or more has its means stored past the caches; the twin computes a few rows of it.
    image = np.random.default_rng(8).normal(size=(1030, 1031))
    for rows in [(0, 9), (500, 517), (1020, 1030)]:
        native = _blur_rows(impl, image, np.empty(image.size), 3, rows)
        assert same_bits(native, _blur_rows("python", image, np.zeros(image.size), 3, rows))


def test_box_blur_native_rows_into_an_unaligned_buffer_agree_with_the_twin():
    image = np.random.default_rng(9).normal(size=(10, 40))
    native = _blur_rows("native", image, unaligned(np.zeros(image.size)), 2, (0, 10))
    assert same_bits(native, _blur_rows("python", image, np.zeros(image.size), 2, (0, 10)))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 300), elements=any_doubles), compiled, workers)
def test_sum_squares_twins_agree(values, impl, workers):
    assert same_bits(gilkit.sum_squares(values, impl=impl, workers=workers), gilkit.sum_squares(values, impl="python"))


NOT_CANCELLED = np.zeros(1, dtype=np.intc)


def _mandelbrot_past_last_row():
    mandelbrot = gilkit._implementations.native_module("mandelbrot")
    mandelbrot.mandelbrot_rows(np.zeros(12, dtype=np.int32), 0, 0, 4, 10, -2.0, -1.0, 0.1, 0.1, 2, 4, NOT_CANCELLED)


def _blur_past_last_row():
    blur = gilkit._implementations.native_module("blur")
    blur.box_blur_rows(np.zeros(12), np.zeros(12), 3, 4, 1, 1, 5, NOT_CANCELLED)


def _sum_squares_past_end():
    sumsq = gilkit._implementations.native_module("sumsq")
    sumsq.sum_squares_chunk(np.zeros(12), 5, 13, NOT_CANCELLED)


@pytest.mark.parametrize("call", [_mandelbrot_past_last_row, _blur_past_last_row, _sum_squares_past_end])
def test_native_chunk_functions_reject_spans_outside_their_buffers(call):
    """The nogil loops index without bounds checks; their def wrappers must refuse a bad span."""
    with pytest.raises(IndexError, match="does not lie inside"):
        call()


@pytest.mark.parametrize("segment_bytes", [0, -1])
def test_native_sieve_refuses_an_empty_segment(segment_bytes):
    """A segment of no bytes would be a zero-byte buffer the nogil loop writes into."""
    primes = gilkit._implementations.native_module("primes")
    with pytest.raises(ValueError, match="segment_bytes must be >= 1"):
        primes.count_primes_segment(gilkit.kernels.base_primes(1000), segment_bytes, 0, 1000, NOT_CANCELLED)
