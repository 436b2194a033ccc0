"""Arrays in shared memory, allocated once: ``mode="processes"`` passes them to its workers by name.

An ordinary array is copied into a temporary shared-memory segment on every processes-mode call; an
array from :func:`shared_array` (or any C-contiguous view of it) already lives in one, so only its
name and offset travel. The segment is unlinked when the array and every view of it are gone (or at
interpreter exit); the resource tracker unlinks it if the process is killed first.
"""

import math
import mmap
import os
import secrets
import sys
import threading
import weakref
from multiprocessing import resource_tracker

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._validate import fits_in_memory, integer

try:
    import _posixshmem  # what multiprocessing.shared_memory uses on POSIX
except ImportError:  # Windows: shared_array still works, but processes mode copies it like any array
    _posixshmem = None

_lock = threading.Lock()
#: name -> (first address, end address) of each live segment made here.
_segments: dict[str, tuple[int, int]] = {}


def shared_array(shape: int | tuple[int, ...], dtype: DTypeLike = np.float64) -> NDArray:
    """A new zero-filled C-contiguous array in shared memory, for ``mode="processes"`` calls without a copy.

    Use it like any NumPy array (fill it, slice it, pass it to any kernel); its memory is released when
    the array and every view of it are gone.
    """
    try:
        item = np.dtype(dtype)
    except Exception as exc:  # NumPy raises TypeError, ValueError, even SyntaxError for strings like '01'
        raise TypeError(f"dtype must be a NumPy dtype, got {dtype!r} ({type(exc).__name__}: {exc})") from None
    if item.hasobject or item.itemsize == 0:
        raise TypeError(f"dtype must be a fixed-size type holding no Python objects, got {item}")
    dims = _shape(shape)
    count = math.prod(dims)
    if count > sys.maxsize:
        raise ValueError(f"shape {dims} has more elements than an array can hold")
    nbytes = count * item.itemsize
    fits_in_memory("shape", nbytes, f"an array of shape {dims} and dtype {item}")
    if _posixshmem is None:
        return np.zeros(dims, item)
    name, buffer = _create_segment(max(nbytes, 1))
    array = np.frombuffer(buffer, dtype=item, count=count).reshape(dims)
    start = array.__array_interface__["data"][0]
    with _lock:
        _segments[name] = (start, start + nbytes)
    # The mapping itself closes when the last view is gone; the name must go then too.
    weakref.finalize(array.base, _unlink, name)
    return array


def _shape(shape: object) -> tuple[int, ...]:
    """``shape`` as a tuple of ints >= 0, each checked like every integer argument of gilkit."""
    return tuple(integer("shape", dim, minimum=0) for dim in (shape if isinstance(shape, tuple) else (shape,)))


def _create_segment(size: int) -> tuple[str, mmap.mmap]:
    while True:
        name = "psm_gilkit_" + secrets.token_hex(6)  # psm_: the prefix multiprocessing's segments have
        try:
            fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
        except FileExistsError:
            continue
        break
    try:
        os.ftruncate(fd, size)
        buffer = mmap.mmap(fd, size)
    except BaseException:
        _posixshmem.shm_unlink("/" + name)
        raise
    finally:
        os.close(fd)
    resource_tracker.register("/" + name, "shared_memory")
    return name, buffer


def _unlink(name: str) -> None:
    with _lock:
        del _segments[name]
    _posixshmem.shm_unlink("/" + name)
    resource_tracker.unregister("/" + name, "shared_memory")


def locate(array: np.ndarray) -> tuple[str, int] | None:
    """(segment name, byte offset) when ``array`` is C-contiguous and lies in a shared_array's segment."""
    if not array.flags.c_contiguous:
        return None
    start = array.__array_interface__["data"][0]
    with _lock:
        for name, (first, end) in _segments.items():
            if first <= start and start + array.nbytes <= end:
                return name, start - first
    return None
