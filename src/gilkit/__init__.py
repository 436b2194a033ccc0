"""gilkit: make the GIL visible.

Compute kernels whose compiled loops run outside the GIL, each with a pure-Python twin and a
GIL-holding build of the same loop, so threads can be seen to help or not.
"""

from ._cpus import usable_cpus
from ._executor import get_start_method, set_start_method, shutdown
from ._implementations import (
    ACTIVE_IMPLEMENTATION,
    IMPLS,
    ISA_VARIANT,
    NATIVE_AVAILABLE,
    OPENMP_ENABLED,
    Impl,
    available_impls,
)
from ._registry import KERNELS
from ._shared_memory import shared_array
from ._validate import MODES, Mode
from ._version import __version__
from .gil_timeline import GilTimeline, record_gil, timeline
from .heartbeat import HeartbeatProbe
from .kernels import box_blur, count_primes, estimate_pi, mandelbrot, sum_squares
from .probing import ProbeReport, probe

__all__ = [
    "ACTIVE_IMPLEMENTATION",
    "GilTimeline",
    "HeartbeatProbe",
    "IMPLS",
    "ISA_VARIANT",
    "Impl",
    "KERNELS",
    "MODES",
    "Mode",
    "NATIVE_AVAILABLE",
    "OPENMP_ENABLED",
    "ProbeReport",
    "__version__",
    "available_impls",
    "box_blur",
    "count_primes",
    "estimate_pi",
    "get_start_method",
    "load_ipython_extension",
    "mandelbrot",
    "probe",
    "record_gil",
    "set_start_method",
    "shared_array",
    "shutdown",
    "sum_squares",
    "timeline",
    "usable_cpus",
]


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext gilkit`` in IPython or Jupyter: the ``%gil`` and ``%%gil`` magics (gilkit.probe) and
    ``%%giltimeline`` (gilkit.timeline)."""
    from ._ipython import load_ipython_extension as load

    load(ipython)
