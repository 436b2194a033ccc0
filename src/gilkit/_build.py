"""What this interpreter is: the facts low-level modules need, apart from gilkit._info (which reports
everything, and so imports nearly every module)."""

import platform
import sys
import sysconfig


def free_threaded_build() -> bool:
    """True on a CPython built with --disable-gil (3.13t, 3.14t)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Whether the GIL is enabled right now (always True before Python 3.13)."""
    return sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True


def build_label() -> str:
    """e.g. 'CPython 3.11.7 (GIL)' or 'CPython 3.13.5t (free-threaded, GIL disabled)'."""
    version = platform.python_version() + ("t" if free_threaded_build() else "")
    if free_threaded_build():
        state = "free-threaded, GIL " + ("enabled" if gil_enabled() else "disabled")
    else:
        state = "GIL"
    return f"{platform.python_implementation()} {version} ({state})"
