"""`gilkit demo ctypes`: ctypes releases the GIL around a foreign call (CFUNCTYPE), PyDLL/PYFUNCTYPE keep it.

The C function is gilkit's own compiled mandelbrot row loop, called through its address (no second C
library): once through a ``CFUNCTYPE`` prototype, which ctypes calls with the GIL released, and once
through a ``PYFUNCTYPE`` prototype, which it calls with the GIL held (the convention of ``ctypes.PyDLL``,
for functions that use the Python C API). gilkit's own ``native`` and ``native-gil`` run the same loop
for reference. Each is probed by gilkit.probe on 1 and 2 threads.
"""

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _implementations, kernels
from .._build import gil_enabled
from .._steady import INSIDE, chunk_max_iter
from ..probing import probe
from ._catalog import CTYPES_OPTIONS
from ._result import DemoResult

#: How long one call takes: long enough for the heartbeat to see who holds the GIL.
CALL_SECONDS = 0.03
WIDTH = 1000

#: void (int *out, Py_ssize_t first_row, Py_ssize_t first_column, Py_ssize_t width, int max_iter, double xmin,
#:       double ymin, double dx, double dy, Py_ssize_t row_start, Py_ssize_t row_stop, const int *cancel)
ARGTYPES = [ctypes.POINTER(ctypes.c_int), ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_int,
            ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_ssize_t, ctypes.c_ssize_t,
            ctypes.POINTER(ctypes.c_int)]


def foreign_rows(prototype: Callable[..., Any]) -> Callable[..., None]:
    """The compiled row loop as a ctypes function of ``prototype`` (ctypes.CFUNCTYPE or ctypes.PYFUNCTYPE)."""
    address = _implementations.native_module("mandelbrot").c_function_address()
    return prototype(None, *ARGTYPES)(address)


def foreign_call(function: Callable[..., None], rows: int, max_iter: int) -> np.ndarray:
    """One image of ``rows`` rows inside the set, computed by the ctypes ``function``; the checks the C
    function does not make are made here (a fresh buffer of exactly rows x WIDTH ints)."""
    out = np.empty(rows * WIDTH, dtype=np.intc)
    cancel = np.zeros(1, dtype=np.intc)
    dx, dy = kernels.mandelbrot_steps(WIDTH, rows, **INSIDE)
    function(out.ctypes.data_as(ctypes.POINTER(ctypes.c_int)), 0, 0, WIDTH, max_iter, INSIDE["xmin"], INSIDE["ymin"],
             dx, dy, 0, rows, cancel.ctypes.data_as(ctypes.POINTER(ctypes.c_int)))
    return out.reshape(rows, WIDTH)


(ROUNDS,) = CTYPES_OPTIONS


def ctypes_demo(rounds: int = 5, call_seconds: float = CALL_SECONDS) -> DemoResult:
    """Each way of calling the loop probed on 1 and 2 threads: speedup, heartbeat, verdict. One call takes
    about ``call_seconds``, as calibrated on this machine."""
    rounds = ROUNDS.whole(rounds)
    rows = kernels.MANDELBROT_ROWS_PER_CHUNK
    max_iter = chunk_max_iter(WIDTH, call_seconds)
    released, held = foreign_rows(ctypes.CFUNCTYPE), foreign_rows(ctypes.PYFUNCTYPE)
    calls = {
        "ctypes CFUNCTYPE": lambda: foreign_call(released, rows, max_iter),
        "ctypes PYFUNCTYPE": lambda: foreign_call(held, rows, max_iter),
        "gilkit native": lambda: kernels.mandelbrot(WIDTH, rows, max_iter=max_iter, **INSIDE),
        "gilkit native-gil": lambda: kernels.mandelbrot(WIDTH, rows, max_iter=max_iter, impl="native-gil", **INSIDE),
    }
    reports = {name: probe(call, workers=(1, 2), rounds=rounds, label=name) for name, call in calls.items()}
    columns = ["called as", "one call ms", "2 threads", "GIL share p50 ms", "p90 ms", "the GIL meter says"]
    rows_out = [[name, 1000 * r.call_median_s, r.scaling[-1].speedup_best, r.gil_median_ms, r.gil_p90_ms,
                 r.verdict.text] for name, r in reports.items()]
    free, kept = reports["ctypes CFUNCTYPE"], reports["ctypes PYFUNCTYPE"]
    if not gil_enabled():
        finding = (f"there is no GIL on this build: the C loop ran {free.scaling[-1].speedup_best:.2f}x on 2 threads "
                   f"through CFUNCTYPE and {kept.scaling[-1].speedup_best:.2f}x through PYFUNCTYPE, whose only "
                   "difference was whether ctypes kept the GIL. Whether the C library may run on several threads at "
                   "once is the library's own question.")
        return DemoResult("ctypes", columns, rows_out, finding)
    finding = (f"through a CFUNCTYPE prototype the C loop ran {free.scaling[-1].speedup_best:.2f}x on 2 threads "
               f"({free.verdict.text}); through PYFUNCTYPE, the PyDLL convention, {kept.scaling[-1].speedup_best:.2f}x "
               f"({kept.verdict.text}, the heartbeat {kept.gil_p90_ms:.0f} ms late at the 90th percentile), like "
               "gilkit's native-gil. ctypes gives up the GIL for the call; whether the C library may run on several "
               "threads at once is then the library's own question.")
    return DemoResult("ctypes", columns, rows_out, finding)
