"""What the tests share: the build facts they branch on, the skip markers and the small problems.

The facts are imported from gilkit, never re-implemented here."""

import pytest

import gilkit
from gilkit._build import free_threaded_build, gil_enabled
from gilkit._registry import WORKLOADS
from gilkit._switch import NO_EXTENSIONS_ENV, extensions_disabled

__all__ = ["CALIBRATED_CALL_SECONDS", "FREE_THREADED", "SMALL_PROBLEMS", "gil_enabled", "needs_native",
           "needs_two_cpus"]

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
