"""The other lessons as runnable, measured demos: `gilkit demo io|locks|responsive|ctypes|asyncio|dask|convoy`.

Each demo is a function that runs the experiment and returns a :class:`DemoResult`: a small table of
what it measured and the finding in one sentence, worded from the numbers (so it stays honest on a
free-threaded build, where some findings change). One module a lesson.
"""

from ._result import DemoResult
from .blocking_io import io_demo
from .convoy import convoy_demo
from .event_loop import asyncio_demo
from .foreign_calls import ctypes_demo
from .locks import locks_demo
from .responsive import frame_stats, responsive_demo, run_work
from .scaling_out import dask_demo

__all__ = [
    "DemoResult", "asyncio_demo", "convoy_demo", "ctypes_demo", "dask_demo", "frame_stats", "io_demo", "locks_demo",
    "responsive_demo", "run_work",
]
