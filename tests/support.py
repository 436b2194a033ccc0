"""What the tests share: the build facts they branch on and the skip markers (imported, never re-implemented)."""

import pytest

import gilkit
from gilkit._info import free_threaded_build, gil_enabled
from gilkit._switch import NO_EXTENSIONS_ENV, extensions_disabled

__all__ = ["FREE_THREADED", "gil_enabled", "needs_native", "needs_two_cpus"]

FREE_THREADED = free_threaded_build()

needs_two_cpus = pytest.mark.skipif(
    gilkit.usable_cpus() < 2, reason="this process may use only one CPU, so there is no parallelism to measure"
)
needs_native = pytest.mark.skipif(
    extensions_disabled(), reason=f"{NO_EXTENSIONS_ENV}=1: the compiled kernels are switched off"
)
