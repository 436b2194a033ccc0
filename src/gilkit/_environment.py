"""The build/import switches, read in one place.

``setup.py`` loads this file by path (the package is not importable while it is being built), and
``gilkit._implementations`` imports it, so both honour exactly the same variables.
"""

import os

NO_EXTENSIONS_ENV = "GILKIT_NO_EXTENSIONS"
NO_OPENMP_ENV = "GILKIT_NO_OPENMP"
ISA_ENV = "GILKIT_ISA"

#: The instruction-set variants the kernels are compiled for, from the portable baseline up (x86-64;
#: elsewhere only "baseline" is built). avx2 is x86-64-v3 (AVX2, FMA, BMI2), avx512 is x86-64-v4.
ISA_VARIANTS = ("baseline", "avx2", "avx512")

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def extensions_disabled() -> bool:
    """True when ``GILKIT_NO_EXTENSIONS`` asks for the pure-Python build/import."""
    return _flag(NO_EXTENSIONS_ENV)


def openmp_disabled() -> bool:
    """True when ``GILKIT_NO_OPENMP`` asks setup.py to compile without OpenMP."""
    return _flag(NO_OPENMP_ENV)


def isa_cap() -> str | None:
    """The most capable variant ``GILKIT_ISA`` allows (e.g. "baseline" forces the portable code), or None.

    Raises ValueError for a value that names no variant: a typo must not silently run another variant.
    """
    value = os.environ.get(ISA_ENV, "").strip().lower()
    if not value:
        return None
    if value not in ISA_VARIANTS:
        raise ValueError(f"{ISA_ENV} must be one of {', '.join(ISA_VARIANTS)} (or unset); got {value!r}")
    return value
