"""The implementation registry: which implementations exist, which are importable, and where each
kernel's chunk functions live. The one place that decides native vs pure Python.

``GILKIT_NO_EXTENSIONS=1`` (see gilkit._environment, also read by setup.py) skips the compiled modules even
when they are installed; without them ``impl="python"`` still works and ``impl="native"`` raises an
ImportError that says how to build.

The kernels are compiled once per instruction set (gilkit._native.baseline, .avx2, .avx512); the most
capable variant that this CPU runs, that was built, and that ``GILKIT_ISA`` allows is imported. Every
variant computes bit for bit the same results: only the speed differs.
"""

import functools
import importlib
import importlib.util
import os
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Any, Literal, get_args

from . import _environment, _python

#: "native": the compiled loop, GIL released; "native-gil": the same compiled loop, GIL held (the control);
#: "python": the pure-Python twin.
Impl = Literal["native", "native-gil", "python"]
#: Every value of ``impl=``, whether or not this installation has it (see available_impls()).
IMPLS: tuple[Impl, ...] = get_args(Impl)

#: Every twin in gilkit._python has a compiled counterpart built from ext/<name>.pyx by setup.py.
KERNEL_MODULES = tuple(sorted(module.name for module in pkgutil.iter_modules(_python.__path__)))
HELPER_MODULES = ("_openmp", "_cpu", "_interrupt", "_heartbeat", "_gilsampler")


def _best_isa(supported: tuple[str, ...]) -> str:
    """The most capable variant that the CPU runs, that was built, and that GILKIT_ISA allows."""
    cap = _environment.isa_cap()
    variants = _environment.ISA_VARIANTS
    allowed = variants[: variants.index(cap) + 1] if cap else variants
    for isa in reversed(allowed):
        # Off x86-64 the avx packages are empty: look for a compiled kernel, not just the package.
        if isa in supported and importlib.util.find_spec(f"gilkit._native.{isa}.{KERNEL_MODULES[0]}") is not None:
            return isa
    return "baseline"


def _import_native() -> tuple[dict[str, ModuleType] | None, str | None, str | None]:
    if _environment.extensions_disabled():
        return None, None, f"disabled by {_environment.NO_EXTENSIONS_ENV}=1"
    # libgomp's idle threads otherwise spin after every parallel region, fighting other programs for the
    # CPUs (benchmarks/openmp_wait.py). It reads the variable when it loads, which is next; a user's own
    # setting wins, and a libgomp some other library loaded first keeps its own.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    try:
        helpers = {name: importlib.import_module(f"gilkit._native.{name}") for name in HELPER_MODULES}
        isa = _best_isa(helpers["_cpu"].supported_isas())
        kernels = {name: importlib.import_module(f"gilkit._native.{isa}.{name}") for name in KERNEL_MODULES}
    except ImportError as exc:
        return None, None, f"the compiled modules are not importable ({exc})"
    return {**helpers, **kernels}, isa, None


_NATIVE_MODULES, _ISA_VARIANT, NATIVE_UNAVAILABLE_REASON = _import_native()
#: Which compiled variant runs ("baseline", "avx2" or "avx512"); None without the compiled kernels.
ISA_VARIANT: str | None = _ISA_VARIANT
#: Whether the compiled kernels loaded (see ``NATIVE_UNAVAILABLE_REASON`` when not).
NATIVE_AVAILABLE: bool = _NATIVE_MODULES is not None
#: The fastest implementation this installation has: "native" when the extensions loaded, else "python"
#: (``impl="native"`` itself then raises ImportError; the demos run this one on their main loop).
ACTIVE_IMPLEMENTATION: Impl = "native" if NATIVE_AVAILABLE else "python"
#: Whether the compiled kernels were built with OpenMP (``mode="openmp"`` needs it).
OPENMP_ENABLED: bool = _NATIVE_MODULES is not None and bool(_NATIVE_MODULES["_openmp"].OPENMP_ENABLED)


def supported_isas() -> tuple[str, ...]:
    """The variants this CPU can run (whether or not they were built); () without the compiled helpers."""
    return native_module("_cpu").supported_isas() if NATIVE_AVAILABLE else ()


def available_impls() -> tuple[Impl, ...]:
    """The values of ``impl=`` that work in this installation."""
    return IMPLS if NATIVE_AVAILABLE else ("python",)


def native_module(module: str) -> ModuleType:
    """The compiled module ``module`` (a kernel's, as "primes", or a helper's), or an ImportError that says
    how to get it."""
    if _NATIVE_MODULES is None:
        raise ImportError(
            f"gilkit's compiled kernels are unavailable: {NATIVE_UNAVAILABLE_REASON}. "
            "Build them with `pip install .` from a source checkout (needs a C compiler), "
            "or pass impl='python' to use the pure-Python twins."
        )
    return _NATIVE_MODULES[module]


def kernel_module(impl: Impl, module: str) -> ModuleType:
    """The module named ``module`` ("primes", ...) that holds a kernel's chunk functions for ``impl``."""
    if impl == "python":
        return importlib.import_module(f"gilkit._python.{module}")
    return native_module(module)


def chunk_function(impl: Impl, module: str, function: str) -> Callable[..., Any]:
    """The callable that runs one chunk: native releases the GIL, native-gil holds it, python is the twin."""
    fn = getattr(kernel_module(impl, module), function)
    if impl == "native-gil":
        return functools.partial(fn, release_gil=False)
    return fn
