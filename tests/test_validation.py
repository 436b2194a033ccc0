"""Bad input: the right exception, a message naming the argument, raised before any work starts."""

import numpy as np
import pytest
from support import SMALL_PROBLEMS

import gilkit

IMAGE = np.ones((4, 4))

BAD_CALLS = [
    # (id, function, args, kwargs, exception, the argument the message must name)
    ("width-float", gilkit.mandelbrot, (10.0, 10), {}, TypeError, "width"),
    ("width-str", gilkit.mandelbrot, ("10", 10), {}, TypeError, "width"),
    ("width-bool", gilkit.mandelbrot, (True, 10), {}, TypeError, "width"),
    ("width-zero", gilkit.mandelbrot, (0, 10), {}, ValueError, "width"),
    ("height-negative", gilkit.mandelbrot, (10, -1), {}, ValueError, "height"),
    ("max_iter-negative", gilkit.mandelbrot, (10, 10), {"max_iter": -1}, ValueError, "max_iter"),
    ("max_iter-float", gilkit.mandelbrot, (10, 10), {"max_iter": 2.5}, TypeError, "max_iter"),
    ("max_iter-too-big", gilkit.mandelbrot, (10, 10), {"max_iter": 2**31}, ValueError, "max_iter"),
    ("xmin-ge-xmax", gilkit.mandelbrot, (10, 10), {"xmin": 1.0, "xmax": 1.0}, ValueError, "xmin"),
    ("ymin-ge-ymax", gilkit.mandelbrot, (10, 10), {"ymin": 2.0, "ymax": -2.0}, ValueError, "ymin"),
    ("xmin-nan", gilkit.mandelbrot, (10, 10), {"xmin": float("nan")}, ValueError, "xmin"),
    ("ymax-inf", gilkit.mandelbrot, (10, 10), {"ymax": float("inf")}, ValueError, "ymax"),
    ("xmax-str", gilkit.mandelbrot, (10, 10), {"xmax": "1"}, TypeError, "xmax"),
    ("xmax-complex", gilkit.mandelbrot, (10, 10), {"xmax": 1j}, TypeError, "xmax"),
    ("x-span-overflows", gilkit.mandelbrot, (10, 10), {"xmin": -1e308, "xmax": 1e308}, ValueError, "xmax - xmin"),
    ("n-float", gilkit.count_primes, (100.0,), {}, TypeError, "n"),
    ("n-bool", gilkit.count_primes, (True,), {}, TypeError, "n"),
    ("n-str", gilkit.count_primes, ("100",), {}, TypeError, "n"),
    ("n-too-big", gilkit.count_primes, (2**63,), {}, ValueError, "n"),
    ("samples-zero", gilkit.estimate_pi, (0,), {}, ValueError, "samples"),
    ("samples-float", gilkit.estimate_pi, (1e6,), {}, TypeError, "samples"),
    ("seed-negative", gilkit.estimate_pi, (10,), {"seed": -1}, ValueError, "seed"),
    ("seed-too-big", gilkit.estimate_pi, (10,), {"seed": 2**64}, ValueError, "seed"),
    ("seed-float", gilkit.estimate_pi, (10,), {"seed": 1.0}, TypeError, "seed"),
    ("radius-negative", gilkit.box_blur, (IMAGE, -1), {}, ValueError, "radius"),
    ("radius-float", gilkit.box_blur, (IMAGE, 1.5), {}, TypeError, "radius"),
    ("image-empty", gilkit.box_blur, (np.ones((0, 3)), 1), {}, ValueError, "image"),
    ("image-1d", gilkit.box_blur, (np.ones(5), 1), {}, ValueError, "image"),
    ("image-3d", gilkit.box_blur, (np.ones((2, 2, 2)), 1), {}, ValueError, "image"),
    ("image-complex", gilkit.box_blur, (np.ones((2, 2), dtype=complex), 1), {}, TypeError, "image"),
    ("image-strings", gilkit.box_blur, (np.array([["a", "b"]]), 1), {}, TypeError, "image"),
    ("image-objects", gilkit.box_blur, (np.array([[None, 1]], dtype=object), 1), {}, TypeError, "image"),
    ("image-ragged", gilkit.box_blur, ([[1, 2], [3]], 1), {}, TypeError, "image"),
    ("values-2d", gilkit.sum_squares, (np.ones((2, 2)),), {}, ValueError, "values"),
    ("values-scalar", gilkit.sum_squares, (3.0,), {}, ValueError, "values"),
    ("values-str", gilkit.sum_squares, ("abc",), {}, TypeError, "values"),
    ("values-datetime", gilkit.sum_squares, (np.array(["2020-01-01"], dtype="datetime64[D]"),), {}, TypeError,
     "values"),
    # Found by a user's fuzzing: each was an OverflowError, a NumPy message, or silently wrong.
    ("xmin-huge-int", gilkit.mandelbrot, (10, 10), {"xmin": -(2**1100)}, ValueError, "xmin"),
    ("ymax-huge-int", gilkit.mandelbrot, (10, 10), {"ymax": 2**1100}, ValueError, "ymax"),
    ("width-timedelta", gilkit.mandelbrot, (np.timedelta64(5, "s"), 10), {}, TypeError, "width"),
    ("xmax-timedelta", gilkit.mandelbrot, (10, 10), {"xmax": np.timedelta64(1, "s")}, TypeError, "xmax"),
    ("image-too-big", gilkit.mandelbrot, (2**31 - 1, 2**31 - 1), {}, ValueError, "width [*] height"),
    ("radius-memory", gilkit.box_blur, (IMAGE, 2**31 - 1), {}, ValueError, "radius"),
    ("image-masked", gilkit.box_blur, (np.ma.masked_array(IMAGE, mask=IMAGE > 0), 1), {}, TypeError, "masked"),
    ("values-masked", gilkit.sum_squares, (np.ma.masked_array([1.0, 2.0], mask=[0, 1]),), {}, TypeError, "masked"),
]

EXECUTION_ERRORS = [
    ("impl-unknown", {"impl": "cuda"}, ValueError, "impl"),
    ("impl-not-str", {"impl": 1}, ValueError, "impl"),
    ("workers-zero", {"workers": 0}, ValueError, "workers"),
    ("workers-float", {"workers": 2.0}, TypeError, "workers"),
    ("workers-bool", {"workers": True}, TypeError, "workers"),
    ("workers-absurd", {"workers": 100_000}, ValueError, "workers"),
    ("workers-huge", {"workers": 2**31}, ValueError, "workers"),
    ("mode-unknown", {"mode": "gpu"}, ValueError, "mode"),
    ("openmp-needs-native", {"mode": "openmp", "impl": "python"}, ValueError, "openmp"),
]

CHECKED = [c for c in BAD_CALLS if c[4] is not None]


@pytest.mark.parametrize("function, args, kwargs, error, name", [c[1:] for c in CHECKED], ids=[c[0] for c in CHECKED])
def test_bad_arguments(function, args, kwargs, error, name):
    with pytest.raises(error, match=name.replace("(", r"\(")):
        function(*args, **kwargs, impl="python")


@pytest.mark.parametrize("kernel", gilkit.KERNELS)
@pytest.mark.parametrize("kwargs, error, name", [c[1:] for c in EXECUTION_ERRORS], ids=[c[0] for c in EXECUTION_ERRORS])
def test_bad_execution_arguments(kernel, kwargs, error, name):
    with pytest.raises(error, match=name):
        SMALL_PROBLEMS[kernel].call(**{"impl": "python", **kwargs})


@pytest.mark.parametrize("mode", gilkit.MODES)
def test_the_worker_bound_is_the_same_in_every_mode(mode):
    from gilkit._validate import MAX_WORKERS

    impl = "native" if mode == "openmp" else "python"
    with pytest.raises(ValueError, match=f"workers must be <= {MAX_WORKERS}"):
        gilkit.sum_squares(np.ones(4), impl=impl, workers=MAX_WORKERS + 1, mode=mode)


@pytest.mark.parametrize("interval, error", [(2**1100, ValueError), (1e9, ValueError), (1e300, ValueError),
                                             (np.timedelta64(1, "ms"), TypeError)])
def test_heartbeat_interval_is_bounded(interval, error):
    with pytest.raises(error, match="interval"):
        gilkit.HeartbeatProbe(interval)


def test_a_heartbeat_probe_exits_at_once_whatever_its_interval():
    probe = gilkit.HeartbeatProbe(interval=1.0)
    with probe:
        pass  # the beat thread is waiting out its interval: exit must wake it, not wait it out
    # Waiting it out (as a sleep did) would have recorded a beat after the exit.
    assert probe.beats == 0 and not any(thread.is_alive() for thread in probe._threads)


def test_numpy_integer_scalars_are_accepted_as_ints():
    image = gilkit.mandelbrot(np.int64(5), np.uint8(3), max_iter=np.int32(10), impl="python", workers=np.int16(2))
    assert image.shape == (3, 5)
    assert gilkit.estimate_pi(np.uint64(100), seed=np.uint64(2**63), impl="python") > 0
    assert gilkit.box_blur(IMAGE, np.int8(1), impl="python").shape == (4, 4)


def test_numpy_float_scalars_are_accepted_as_window_bounds():
    image = gilkit.mandelbrot(4, 4, xmin=np.float32(-1.0), xmax=np.float64(0.5), ymin=-1, ymax=1, impl="python")
    assert image.shape == (4, 4)


def test_validation_happens_before_any_work():
    """A bad argument late in the list still fails at once, with no output built."""
    with pytest.raises(ValueError, match="mode"):
        gilkit.mandelbrot(10**6, 10**6, impl="python", mode="nope")

