"""The other lessons as runnable, measured demos: `gilkit demo io|locks|responsive|ctypes|asyncio|dask|convoy`.

Each demo is a function that runs the experiment and returns a :class:`DemoResult`: a small table of
what it measured and the finding in one sentence, worded from the numbers (so it stays honest on a
free-threaded build, where some findings change). One module a lesson. :data:`DEMOS` lists them with
their options (declared once, in each module: the function checks them and the command line offers them)
and what each needs; the command line is built from it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from . import blocking_io, convoy, event_loop, foreign_calls, locks, responsive, scaling_out
from ._options import Option
from ._result import DemoResult
from .blocking_io import io_demo
from .convoy import convoy_demo
from .event_loop import asyncio_demo
from .foreign_calls import ctypes_demo
from .gui import NoDisplayError, gui_demo
from .locks import locks_demo
from .responsive import frame_stats, responsive_demo, run_work
from .scaling_out import dask_demo

__all__ = [
    "DEMOS", "Demo", "DemoResult", "Option", "asyncio_demo", "convoy_demo", "ctypes_demo", "dask_demo", "frame_stats",
    "io_demo", "locks_demo", "responsive_demo", "run_work",
]


class Shown(Protocol):
    """What a demo returns: a table for people, a dict for --json."""

    def table(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


def _responsive(duration: float = 1.0, gui: bool = False, auto: bool = False) -> Shown:
    """The responsive demo, or with ``gui`` its Tk window."""
    if gui:
        return gui_demo(auto=auto)
    return responsive_demo(duration=duration)


@dataclass(frozen=True)
class Demo:
    name: str
    help: str
    run: Callable[..., Shown]
    options: tuple[Option, ...]
    #: Whether it runs gilkit's compiled kernels (without them it cannot say anything).
    needs_native: bool = False
    #: Exceptions that mean "this cannot run here, and why": one line and exit 2 on the command line.
    cannot_run: tuple[type[Exception], ...] = ()


DEMOS: dict[str, Demo] = {demo.name: demo for demo in (
    Demo("io", "threads help blocking I/O even with the GIL; not pure-Python work", io_demo, blocking_io.OPTIONS),
    Demo("locks", "a shared histogram: no lock, a lock per update, local then merge", locks_demo, locks.OPTIONS),
    Demo("responsive", "a 16 ms main loop while work runs in a thread", _responsive, responsive.OPTIONS,
         cannot_run=(NoDisplayError,)),
    Demo("ctypes", "a C function through ctypes: CFUNCTYPE releases the GIL, PYFUNCTYPE not", ctypes_demo,
         foreign_calls.OPTIONS, needs_native=True),
    Demo("asyncio", "an event loop's ticks while I/O and kernels run in it or beside it", asyncio_demo,
         event_loop.OPTIONS),
    Demo("dask", "Dask's threads, processes and a LocalCluster: native vs pure-Python tiles", dask_demo,
         scaling_out.OPTIONS, needs_native=True, cannot_run=(ImportError,)),
    Demo("convoy", "an I/O thread's requests beside a CPU-bound thread, with GIL timelines", convoy_demo,
         convoy.OPTIONS, needs_native=True, cannot_run=(ValueError, RuntimeError)),
)}
