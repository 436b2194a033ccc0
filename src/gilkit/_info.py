"""What this interpreter, machine and build of gilkit are: the facts every measurement depends on."""

import datetime
import os
import platform
import sys
from typing import Any

import numpy as np

from . import _cpus, _implementations, kernels
from ._build import build_label, free_threaded_build, gil_enabled
from ._executor import get_start_method
from ._version import __version__


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def info() -> dict[str, Any]:
    """A dict of the facts `gilkit info` prints and `gilkit bench --json` records."""
    openmp = _implementations.native_module("_openmp") if _implementations.OPENMP_ENABLED else None
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "build": build_label(),
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "switch_interval": sys.getswitchinterval(),
        "cpu_count": os.cpu_count(),
        "cpus_affinity": _cpus.affinity_cpus(),
        "cgroup_cpu_quota": _cpus.cgroup_cpu_quota(),
        "cpus_usable": _cpus.usable_cpus(),
        "cpu_model": cpu_model(),
        "l2_cache_bytes": kernels.L2_CACHE_BYTES,
        "sieve_segment_bytes": kernels.SEGMENT_BYTES,
        "platform": platform.platform(),
        "gilkit_version": __version__,
        "numpy_version": np.__version__,
        "implementations": list(_implementations.available_impls()),
        "isa_variant": _implementations.ISA_VARIANT,
        "isa_supported": list(_implementations.supported_isas()),
        "compiler": _implementations.native_module("_cpu").COMPILER if _implementations.NATIVE_AVAILABLE else None,
        "native_unavailable_reason": _implementations.NATIVE_UNAVAILABLE_REASON,
        "openmp_enabled": _implementations.OPENMP_ENABLED,
        "openmp_max_threads": openmp.openmp_max_threads() if openmp else None,
        "openmp_wait_policy": os.environ.get("OMP_WAIT_POLICY") if _implementations.OPENMP_ENABLED else None,
        "process_start_method": get_start_method(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
