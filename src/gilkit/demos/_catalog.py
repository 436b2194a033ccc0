"""Every demo's name, help, options and needs, without importing the demo: what `gilkit` builds its
command line from at start-up (a demo's module, with asyncio, sockets, Tk or Dask behind it, is imported
when the demo runs). Each option is declared once, here: the demo function checks its arguments with it,
and the command line offers it."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ._options import NoDisplayError, Option


class Shown(Protocol):
    """What a demo returns: a table for people, a dict for --json."""

    def table(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


IO_OPTIONS = (Option("threads", 4, "2 or more (it compares)", minimum=2, maximum=256),
              Option("tasks", 8, "tasks of each kind", maximum=10_000))
LOCKS_OPTIONS = (Option("threads", 4, "2 or more (it compares)", minimum=2, maximum=256),
                 Option("updates", 100_000, "values per thread", maximum=10**8))
RESPONSIVE_OPTIONS = (Option("duration", 1.0, "seconds per case", kind="seconds"),
                      Option("gui", False, "open a Tk window instead (needs a display)", kind="flag"),
                      Option("auto", False, "with --gui: press every button, then close", kind="flag"))
CTYPES_OPTIONS = (Option("rounds", 5, "timed rounds per variant", maximum=1000),)
ASYNCIO_OPTIONS = (Option("requests", 8, "concurrent TCP requests", maximum=256),)
DASK_OPTIONS = (Option("rounds", 3, "timed rounds per (impl, scheduler)", maximum=1000),)
CONVOY_OPTIONS = (Option("duration", 1.0, "seconds of round trips per case", kind="seconds", maximum=3600),
                  Option("save", None, "write each case's timeline (PNG, Chrome trace) into DIR", kind="folder"),
                  Option("live", False, "a live counter instead: keys start and stop threads beside the service",
                         kind="flag"))


@dataclass(frozen=True)
class Demo:
    name: str
    help: str
    #: Where the demo function lives: gilkit.demos.<module>.<function>.
    module: str
    function: str
    options: tuple[Option, ...]
    #: Whether it runs gilkit's compiled kernels (without them it cannot say anything).
    needs_native: bool = False
    #: Exceptions that mean "this cannot run here, and why": one line and exit 2 on the command line.
    cannot_run: tuple[type[Exception], ...] = ()

    def load(self) -> Callable[..., Shown]:
        """The demo function, its module imported now."""
        function: Callable[..., Shown] = getattr(importlib.import_module(f"gilkit.demos.{self.module}"), self.function)
        return function

    def run(self, **options: Any) -> Shown:
        return self.load()(**options)


DEMOS: dict[str, Demo] = {demo.name: demo for demo in (
    Demo("io", "threads help blocking I/O even with the GIL; not pure-Python work", "blocking_io", "io_demo",
         IO_OPTIONS),
    Demo("locks", "a shared histogram: no lock, a lock per update, local then merge", "locks", "locks_demo",
         LOCKS_OPTIONS),
    Demo("responsive", "a 16 ms main loop while work runs in a thread", "gui", "responsive_or_gui",
         RESPONSIVE_OPTIONS, cannot_run=(NoDisplayError,)),
    Demo("ctypes", "a C function through ctypes: CFUNCTYPE releases the GIL, PYFUNCTYPE not", "foreign_calls",
         "ctypes_demo", CTYPES_OPTIONS, needs_native=True),
    Demo("asyncio", "an event loop's ticks while I/O and kernels run in it or beside it", "event_loop",
         "asyncio_demo", ASYNCIO_OPTIONS),
    Demo("dask", "Dask's threads, processes and a LocalCluster: native vs pure-Python tiles", "scaling_out",
         "dask_demo", DASK_OPTIONS, needs_native=True, cannot_run=(ImportError,)),
    Demo("convoy", "an I/O thread's requests beside a CPU-bound thread, with GIL timelines", "live_convoy",
         "convoy_or_live", CONVOY_OPTIONS, needs_native=True, cannot_run=(ValueError, RuntimeError)),
)}
