"""Argument checks shared by every public function: one message per mistake, whatever the impl."""

import math
import numbers
import operator
import os
from typing import Any, Literal, TypeVar, get_args

import numpy as np
from numpy.typing import NDArray

from ._implementations import IMPLS, Impl

#: "threads": a team of threads; "processes": a process pool, arrays in shared memory; "openmp": one nogil
#: call with a prange over the chunks (impl="native" only).
Mode = Literal["threads", "processes", "openmp", "interpreters"]
#: Every value of ``mode=``.
MODES: tuple[Mode, ...] = get_args(Mode)
T = TypeVar("T", bound=str)

#: The most workers any mode accepts: far above any machine's cores, far below what exhausts threads.
MAX_WORKERS = 1024


def physical_memory() -> int | None:
    """Bytes of RAM on this machine (None where the platform does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def fits_in_memory(name: str, nbytes: int, what: str) -> None:
    """Refuse, before allocating anything, work whose memory this machine does not have."""
    memory = physical_memory()
    if memory is not None and nbytes > memory:
        raise ValueError(f"{name} is too large: {what} would need {nbytes / 2**30:,.1f} GiB, more than this "
                         f"machine's {memory / 2**30:,.1f} GiB of memory")


def integer(name: str, value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int: ints and NumPy integers only (not bool, float, str or timedelta64)."""
    if (isinstance(value, (bool, np.bool_, np.timedelta64))
            or not isinstance(value, (numbers.Integral, np.integer))):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    number = operator.index(value)
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {number}")
    return number


def finite_real(name: str, value: object) -> float:
    """``value`` as a finite Python float: ints, floats and their NumPy scalars (not bool or complex)."""
    if (isinstance(value, (bool, np.bool_, np.timedelta64))
            or not isinstance(value, (numbers.Real, np.integer, np.floating))):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got an integer too large for a float") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    return number


#: The longest duration accepted anywhere (a year): longer ones overflow the OS's timeouts.
MAX_SECONDS = 365 * 24 * 3600.0


def whole_number(name: str, text: str) -> int:
    """``text`` as an int, or a ValueError naming ``name`` (a command-line option, a magic's option)."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} takes a whole number, got {text!r}") from None


def worker_counts(text: str) -> list[int]:
    """A comma-separated list of worker counts such as "1,2", sorted and without repeats."""
    counts = [integer("workers", whole_number("workers", part), minimum=1, maximum=MAX_WORKERS)
              for part in text.split(",") if part.strip()]
    if not counts:
        raise ValueError(f"workers must be whole numbers separated by commas, got {text!r}")
    return sorted(set(counts))


def positive_seconds(name: str, value: object, *, maximum: float = MAX_SECONDS) -> float:
    """``value`` as a finite float in (0, maximum]: a duration (ints, floats and NumPy scalars; not bool or str)."""
    seconds = finite_real(name, value)
    if seconds <= 0:
        raise ValueError(f"{name} must be > 0 seconds, got {seconds}")
    if seconds > maximum:
        raise ValueError(f"{name} must be <= {maximum:g} seconds, got {seconds:g}")
    return seconds


def share(name: str, value: object) -> float:
    """``value`` as a finite float in (0, 1]: a share of a whole."""
    found = finite_real(name, value)
    if not 0 < found <= 1:
        raise ValueError(f"{name} must be a share in (0, 1], got {found:g}")
    return found


def real_array(name: str, value: Any, *, ndim: int) -> NDArray[np.float64]:
    """``value`` as a C-contiguous float64 array with ``ndim`` dimensions (the input is never modified)."""
    return np.ascontiguousarray(real_numeric_array(name, value, ndim=ndim), dtype=np.float64)


def real_numeric_array(name: str, value: Any, *, ndim: int) -> NDArray[Any]:
    """``value`` as an array of a real numeric dtype with ``ndim`` dimensions, as is (no conversion).

    Masked arrays are refused: the kernels would read the masked values as if they were data.
    """
    not_masked(name, value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real numeric array: {exc}") from None
    real_layout(name, array.dtype, array.shape, ndim=ndim)
    return array


def not_masked(name: str, value: object) -> None:
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} must not be a masked array (the mask would be ignored); "
                        f"pass {name}.filled(fill_value) or {name}.data to say what the masked values mean")


def real_layout(name: str, dtype: np.dtype, shape: tuple[float, ...], *, ndim: int) -> None:
    """The checks of real_array that need only the dtype and the shape (a dask array's, before any task runs)."""
    if dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, not an array of dtype {dtype}")
    if len(shape) != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got {len(shape)}-D with shape {shape}")


def not_empty(name: str, shape: tuple[int, ...]) -> None:
    if math.prod(shape) == 0:
        raise ValueError(f"{name} must not be empty, got shape {shape}")


def implementation(impl: object) -> Impl:
    return choice("impl", impl, IMPLS)


def choice(name: str, value: object, allowed: tuple[T, ...]) -> T:
    """``value`` if it is one of the strings ``allowed``: TypeError for another type (as for every other
    argument), ValueError for another string."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {', '.join(map(repr, allowed))}; not {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


#: Why mode="interpreters" runs only the pure-Python twins (docs/lessons/13-interpreters.md says more).
INTERPRETERS_PYTHON_ONLY = ("an isolated interpreter refuses extension modules that do not declare support for "
                            "it, NumPy among them, and gilkit's compiled kernels take NumPy arrays as Cython "
                            "typed memoryviews, whose state Cython keeps per process: cython#8006")


def execution(impl: object, workers: object, mode: object) -> tuple[Impl, int, Mode]:
    """The validated (impl, workers, mode) triple every kernel takes."""
    checked = implementation(impl)
    count = integer("workers", workers, minimum=1, maximum=MAX_WORKERS)
    mode = choice("mode", mode, MODES)
    if mode == "openmp" and checked != "native":
        raise ValueError(f"mode='openmp' runs only impl='native' (a prange inside one nogil call); got impl={impl!r}")
    if mode == "interpreters" and checked != "python":
        raise ValueError(f"mode='interpreters' runs only impl='python' ({INTERPRETERS_PYTHON_ONLY}); got impl={impl!r}")
    return checked, count, mode
