"""The other lessons as runnable, measured demos: `gilkit demo io|locks|responsive|ctypes|asyncio|dask|convoy`.

Each demo is a function that runs the experiment and returns a :class:`DemoResult`: a small table of
what it measured and the finding in one sentence, worded from the numbers (so it stays honest on a
free-threaded build, where some findings change). One module a lesson. :data:`DEMOS` lists them with
their options and what each needs (gilkit.demos._catalog, which imports no demo: the command line is
built from it at start-up); a demo's module is imported when it runs, or when one of its functions is
asked for here (``from gilkit.demos import io_demo``).
"""

import importlib
from typing import Any

from ._catalog import DEMOS, Demo, Shown
from ._options import NoDisplayError, Option
from ._result import DemoResult

__all__ = [
    "DEMOS", "Demo", "DemoResult", "NoDisplayError", "Option", "Shown", "asyncio_demo", "convoy_demo", "ctypes_demo",
    "dask_demo", "frame_stats", "gui_demo", "io_demo", "locks_demo", "responsive_demo", "run_work",
]

#: The demo functions, and the responsive demo's helpers, by the module that defines them.
_LAZY = {
    "io_demo": "blocking_io", "locks_demo": "locks", "responsive_demo": "responsive", "frame_stats": "responsive",
    "run_work": "responsive", "gui_demo": "gui", "ctypes_demo": "foreign_calls", "asyncio_demo": "event_loop",
    "dask_demo": "scaling_out", "convoy_demo": "convoy",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
