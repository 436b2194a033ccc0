"""What each worker interpreter of ``mode="interpreters"`` runs (gilkit._executor.interpreters starts them).

An isolated interpreter refuses extension modules that do not declare support for it, NumPy among them,
so this module and what it imports use the standard library only: the pure-Python twins
(gilkit._python.<module>) run here, over memoryviews of the call's shared-memory segments, never NumPy
arrays. The worker interpreter imports it with gilkit's package stood in by a bare module (its
``__init__`` imports NumPy); the main interpreter never does.

A task arrives as the text of a Python literal, the one kind of value every CPython since 3.12 passes
between interpreters: (module, function, arrays, params, chunks, first, stop, cancel, results). Each
array is (segment, offset, format, shape); the cancel flag and the results are segments too. Chunks
``first`` to ``stop - 1`` run in order, each result written at its index; the flag, once non-zero,
ends the task before its next chunk (and inside one: the twins poll it).
"""

import _posixshmem
import ast
import importlib
import mmap
import os
from contextlib import ExitStack
from typing import Any

#: NumPy's array-interface type strings (native byte order) as memoryview formats.
FORMATS = {"f8": "d", "f4": "f", "i8": "q", "i4": "i", "i2": "h", "i1": "b", "u8": "Q", "u4": "I", "u2": "H",
           "u1": "B", "b1": "?"}


def _view(stack: ExitStack, name: str, offset: int, dtype: str, shape: tuple[int, ...]) -> memoryview:
    """The array at ``offset`` in segment ``name``, as a memoryview of its format and shape."""
    fd = _posixshmem.shm_open("/" + name.lstrip("/"), os.O_RDWR, mode=0o600)
    try:
        mapping = stack.enter_context(mmap.mmap(fd, 0))
    finally:
        os.close(fd)
    whole: Any = stack.enter_context(memoryview(mapping))  # cast() wants a literal format in typeshed
    count = 1
    for extent in shape:
        count *= extent
    raw: Any = stack.enter_context(whole[offset:offset + count * int(dtype[2:])])
    return stack.enter_context(raw.cast(FORMATS[dtype[1:]], shape) if shape else raw.cast(FORMATS[dtype[1:]]))


def run(task: str) -> None:
    module, function, arrays, params, chunks, first, stop, cancel, results = ast.literal_eval(task)
    fn = getattr(importlib.import_module(f"gilkit._python.{module}"), function)
    start, end, size = chunks
    with ExitStack() as stack:
        views = [_view(stack, *array) for array in arrays]
        flag = _view(stack, *cancel)
        out: Any = _view(stack, *results) if results is not None else None
        for index in range(first, stop):
            if flag[0]:
                return
            low = start + index * size
            value = fn(*views, *params, low, min(low + size, end), flag)
            if out is not None:
                out[index] = value
