"""The build/import switches, read in one place.

``setup.py`` loads this file by path (the package is not importable while it is being built), and
``gilkit._compat`` imports it, so both honour exactly the same variables.
"""

import os

NO_EXTENSIONS_ENV = "GILKIT_NO_EXTENSIONS"
NO_OPENMP_ENV = "GILKIT_NO_OPENMP"

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def extensions_disabled() -> bool:
    """True when ``GILKIT_NO_EXTENSIONS`` asks for the pure-Python build/import."""
    return _flag(NO_EXTENSIONS_ENV)


def openmp_disabled() -> bool:
    """True when ``GILKIT_NO_OPENMP`` asks setup.py to compile without OpenMP."""
    return _flag(NO_OPENMP_ENV)
