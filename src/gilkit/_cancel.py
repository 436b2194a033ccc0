"""Each kernel call's cancel flag: how Ctrl-C and errors stop the call's nogil loops early.

Every chunk function takes a one-int buffer and returns early once it is non-zero (the loops poll it).
A call from the main thread uses the flag that SIGINT raises (gilkit._native._interrupt): Ctrl-C stops
its loops within milliseconds wherever they run (on the main thread itself, on helper threads, on
OpenMP threads), and Python's own handler raises KeyboardInterrupt as usual. A call from another
thread, which Ctrl-C does not interrupt, gets a flag of its own. Either way a failing chunk raises the
flag, so the call's other chunks stop too, and a call whose flag was raised never returns a result.
"""

import _signal  # signal.getsignal is this plus an enum conversion that costs microseconds a call
import signal
import threading
from types import TracebackType

import numpy as np

from . import _implementations

_interrupt = _implementations.native_module("_interrupt") if _implementations.NATIVE_AVAILABLE else None
_SIGINT_FLAG = memoryview(_interrupt.sigint_flag()) if _interrupt else None


def _sigint_flag() -> memoryview | None:
    """The SIGINT flag, cleared, when this thread gets KeyboardInterrupt from Ctrl-C; else None."""
    if _interrupt is None or _SIGINT_FLAG is None or threading.current_thread() is not threading.main_thread():
        return None
    if _signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None  # Ctrl-C does something else here: leave it be
    if not _interrupt.chain_sigint():
        return None
    _SIGINT_FLAG[0] = 0
    return _SIGINT_FLAG


class cancellation:
    """``with cancellation() as flag:`` the flag for one call; on leaving, KeyboardInterrupt if the call
    was cut short without an exception (a plain class: a generator-based context costs more per call)."""

    __slots__ = ("_flag",)

    def __enter__(self) -> memoryview:
        self._flag = _sigint_flag() or np.zeros(1, dtype=np.intc).data
        return self._flag

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if kind is None and self._flag[0]:
            # Python's handler has raised KeyboardInterrupt by now (any bytecode runs it) unless something
            # swallowed it: the partial result must not be returned either way.
            raise KeyboardInterrupt("a gilkit call was interrupted")
