"""What the tests share: the build facts they branch on, the skip markers, the small problems, the bad
calls every entry point must refuse, and the helpers that run gilkit's command or look for leftovers.

The facts are imported from gilkit, never re-implemented here."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gilkit
from gilkit._build import free_threaded_build, gil_enabled
from gilkit._environment import NO_EXTENSIONS_ENV, extensions_disabled
from gilkit._registry import WORKLOADS

__all__ = ["BAD_CALLS", "CALIBRATED_CALL_SECONDS", "FREE_THREADED", "IMAGE", "SMALL_PROBLEMS", "gil_enabled",
           "gilkit_cli", "needs_native", "needs_two_cpus", "shared_memory_segments", "unaligned"]

FREE_THREADED = free_threaded_build()

needs_two_cpus = pytest.mark.skipif(
    gilkit.usable_cpus() < 2, reason="this process may use only one CPU, so there is no parallelism to measure"
)
needs_native = pytest.mark.skipif(
    extensions_disabled(), reason=f"{NO_EXTENSIONS_ENV}=1: the compiled kernels are switched off"
)

#: How long a compiled call calibrated to hold the GIL must take for the meter to say "holds": 4 times the
#: 15 ms (3 switch intervals) it needs, as this shared host has run twice as slow during a calibration as
#: during the calls it calibrated (which then took 15 ms instead of 30).
CALIBRATED_CALL_SECONDS = 0.06

#: One small problem per kernel, from the kernel registry: a few chunks, milliseconds on every impl.
SMALL_PROBLEMS = {kernel: workload.small() for kernel, workload in WORKLOADS.items()}


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


def gilkit_cli(*args, timeout=300, **run):
    """``python -m gilkit ARGS`` in a child process, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "gilkit", *args], capture_output=True, text=True, timeout=timeout,
                          **run)


def shared_memory_segments():
    """The names of the POSIX shared-memory segments that multiprocessing made and that exist now."""
    shm = Path("/dev/shm")
    return {p.name for p in shm.iterdir() if p.name.startswith("psm_")} if shm.is_dir() else set()


def unaligned(values):
    """The same values at an odd address (as Dask's transfers can deliver them)."""
    raw = np.zeros(values.nbytes + 1, dtype=np.uint8)
    moved = np.frombuffer(raw[1:], dtype=values.dtype)
    moved[...] = values
    assert not moved.flags.aligned
    return moved
