"""Bad input: the right exception, a message naming the argument, raised before any work starts."""

import numpy as np
import pytest
from support import BAD_CALLS, IMAGE, SMALL_PROBLEMS

import gilkit

EXECUTION_ERRORS = [
    ("impl-unknown", {"impl": "cuda"}, ValueError, "impl"),
    ("impl-not-str", {"impl": 1}, TypeError, "impl"),
    ("workers-zero", {"workers": 0}, ValueError, "workers"),
    ("workers-float", {"workers": 2.0}, TypeError, "workers"),
    ("workers-bool", {"workers": True}, TypeError, "workers"),
    ("workers-absurd", {"workers": 100_000}, ValueError, "workers"),
    ("workers-huge", {"workers": 2**31}, ValueError, "workers"),
    ("mode-unknown", {"mode": "gpu"}, ValueError, "mode"),
    ("mode-not-str", {"mode": None}, TypeError, "mode"),
    ("openmp-needs-native", {"mode": "openmp", "impl": "python"}, ValueError, "openmp"),
]

@pytest.mark.parametrize("function, args, kwargs, error, name", [c[1:] for c in BAD_CALLS],
                         ids=[c[0] for c in BAD_CALLS])
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

