"""Each kernel call's cancel flag: how Ctrl-C and errors stop the call's nogil loops early.

Every chunk function takes a one-int buffer and returns early once it is non-zero (the loops poll it).
A call from the main thread uses the flag that SIGINT raises (gilkit._native._interrupt): Ctrl-C stops
its loops within milliseconds wherever they run (on the main thread itself, on helper threads, on
OpenMP threads), and Python's own handler raises KeyboardInterrupt as usual. A call from another
thread, which Ctrl-C does not interrupt, gets a flag of its own. Either way a failing chunk raises the
flag, so the call's other chunks stop too, and a call whose flag was raised never returns a result.
"""

import contextlib
import signal
import threading

import numpy as np

from . import _compat


def _sigint_flag():
    """The SIGINT flag, cleared, when this thread gets KeyboardInterrupt from Ctrl-C; else None."""
    if threading.current_thread() is not threading.main_thread() or not _compat.NATIVE_AVAILABLE:
        return None
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None  # Ctrl-C does something else here: leave it be
    interrupt = _compat.native_module("_interrupt")
    if not interrupt.chain_sigint():
        return None
    flag = interrupt.sigint_flag()
    flag[0] = 0
    return flag


@contextlib.contextmanager
def cancellation():
    """The flag for one call; raises KeyboardInterrupt if the call was cut short without an exception."""
    flag = _sigint_flag()
    if flag is None:
        flag = np.zeros(1, dtype=np.intc)
    yield memoryview(flag)
    if flag[0]:
        # Python's handler has raised KeyboardInterrupt by now (any bytecode runs it) unless something
        # swallowed it: the partial result must not be returned either way.
        raise KeyboardInterrupt("a gilkit call was interrupted")
