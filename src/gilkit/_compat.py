"""Which implementations are importable: the one place that decides native vs pure Python.

``GILKIT_NO_EXTENSIONS=1`` (see gilkit._switch, also read by setup.py) skips the compiled modules even
when they are installed; without them ``impl="python"`` still works and ``impl="native"`` raises an
ImportError that says how to build.
"""

import functools
import importlib

from . import _switch

KERNEL_MODULES = ("mandelbrot", "primes", "montecarlo", "blur", "sumsq", "histogram")

IMPLS = ("native", "native-gil", "python")


def _import_native():
    if _switch.extensions_disabled():
        return None, f"disabled by {_switch.NO_EXTENSIONS_ENV}=1"
    try:
        modules = {name: importlib.import_module(f"gilkit._native.{name}") for name in KERNEL_MODULES}
        modules["_openmp"] = importlib.import_module("gilkit._native._openmp")
    except ImportError as exc:
        return None, f"the compiled modules are not importable ({exc})"
    return modules, None


_NATIVE_MODULES, NATIVE_UNAVAILABLE_REASON = _import_native()
NATIVE_AVAILABLE = _NATIVE_MODULES is not None
#: The implementation ``impl="native"`` gives: "native" when the extensions loaded, else "python".
ACTIVE_IMPLEMENTATION = "native" if NATIVE_AVAILABLE else "python"
OPENMP_ENABLED = NATIVE_AVAILABLE and _NATIVE_MODULES["_openmp"].OPENMP_ENABLED


def available_impls():
    """The values of ``impl=`` that work in this installation."""
    return IMPLS if NATIVE_AVAILABLE else ("python",)


def native_module(kernel):
    """The compiled module for ``kernel``, or an ImportError that says how to get it."""
    if not NATIVE_AVAILABLE:
        raise ImportError(
            f"gilkit's compiled kernels are unavailable: {NATIVE_UNAVAILABLE_REASON}. "
            "Build them with `pip install .` from a source checkout (needs a C compiler), "
            "or pass impl='python' to use the pure-Python twins."
        )
    return _NATIVE_MODULES[kernel]


def kernel_module(impl, kernel):
    """The module that holds ``kernel``'s chunk functions for ``impl``."""
    if impl == "python":
        return importlib.import_module(f"gilkit._python.{kernel}")
    return native_module(kernel)


def chunk_function(impl, kernel, function):
    """The callable that runs one chunk: native releases the GIL, native-gil holds it, python is the twin."""
    fn = getattr(kernel_module(impl, kernel), function)
    if impl == "native-gil":
        return functools.partial(fn, release_gil=False)
    return fn
