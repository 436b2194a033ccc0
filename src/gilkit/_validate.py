"""Argument checks shared by every public function: one message per mistake, whatever the impl."""

import math
import numbers
import operator

import numpy as np

from ._compat import IMPLS

MODES = ("threads", "processes", "openmp")


def integer(name, value, *, minimum=None, maximum=None):
    """``value`` as a Python int: ints and NumPy integers only (not bool, float or str)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def finite_real(name, value):
    """``value`` as a finite Python float: ints, floats and their NumPy scalars (not bool or complex)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def positive_seconds(name, value):
    """``value`` as a finite float > 0: a duration (ints, floats and NumPy scalars; not bool or str)."""
    value = finite_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0 seconds, got {value}")
    return value


def real_array(name, value, *, ndim):
    """``value`` as a C-contiguous float64 array with ``ndim`` dimensions (the input is never modified)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real numeric array: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, not an array of dtype {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got {array.ndim}-D with shape {array.shape}")
    return np.ascontiguousarray(array, dtype=np.float64)


def execution(impl, workers, mode):
    """The validated (impl, workers, mode) triple every kernel takes."""
    if not isinstance(impl, str) or impl not in IMPLS:
        raise ValueError(f"impl must be one of {', '.join(map(repr, IMPLS))}; got {impl!r}")
    workers = integer("workers", workers, minimum=1)
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}; got {mode!r}")
    if mode == "openmp" and impl != "native":
        raise ValueError(f"mode='openmp' runs only impl='native' (a prange inside one nogil call); got impl={impl!r}")
    return impl, workers, mode
