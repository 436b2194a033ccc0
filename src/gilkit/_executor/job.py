"""The job model: a kernel call as fixed chunks, the arrays and parameters its chunk function takes, and
how the chunk results fold into one, in chunk order. The chunking is fixed by the problem size, never by
the number of workers, so every (impl, workers, mode) gives the same answer."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._arithmetic import ceil_div

#: A chunk function: fn(*arrays, *params, start, stop, cancel) -> the chunk's result (or None).
ChunkFunction = Callable[..., Any]
#: fold(folded so far, next chunk's result) -> folded.
Fold = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Chunks:
    """(start, start + size), (start + size, start + 2*size), ... up to stop, as ``range(start, stop, size)``
    starts them: a split that depends only on the problem, made on demand. A part of a problem (one task of
    gilkit.dask) starts where its first chunk does."""

    start: int
    stop: int
    size: int

    def __len__(self) -> int:
        return max(0, ceil_div(self.stop - self.start, self.size))

    def __getitem__(self, index: int) -> tuple[int, int]:
        first = self.start + index * self.size
        return first, min(first + self.size, self.stop)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return (self[index] for index in range(len(self)))


def keep(folded: Any, value: Any) -> Any:
    """The fold of a job whose chunks only write arrays: nothing to combine."""
    return folded


@dataclass(frozen=True)
class Job:
    """One kernel call: ``function(*arrays, *params, start, stop, cancel)`` for every (start, stop) in chunks."""

    #: The module that holds the chunk function, by its name in gilkit._python and gilkit._native.<isa>
    #: (ext/<module>.pyx): "primes" for count_primes.
    module: str
    function: str
    chunks: Chunks
    arrays: tuple[np.ndarray, ...] = ()
    params: tuple[Any, ...] = ()
    #: Indices into ``arrays`` that the chunks write (copied back from shared memory in process mode).
    outputs: tuple[int, ...] = ()
    #: NumPy dtype of each chunk's return value, or None when the chunks only write arrays.
    result_dtype: type[np.generic] | None = None
    #: The chunk results folded in chunk order: fold(...fold(fold(initial, r0), r1)..., r_last).
    fold: Fold = keep
    initial: Any = None

    def __post_init__(self) -> None:
        # The chunk functions index raw buffers. An input at an odd address (as Dask's transfers deliver
        # them) has a buffer format such as "=d" that a Python memoryview cannot index, and C should not
        # read a number from it: such an input is copied. Outputs are the kernels' own fresh arrays.
        arrays = tuple(array if index in self.outputs else np.require(array, requirements=["C", "A"])
                       for index, array in enumerate(self.arrays))
        object.__setattr__(self, "arrays", arrays)


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class ChunkPlan:
    """How a kernel's work is cut and put back together: the module and function that compute one chunk,
    the chunk's size, and how the chunk results fold (a fresh ``initial()`` for every call)."""

    #: As Job.module: the twin gilkit._python.<module> and the compiled ext/<module>.pyx.
    module: str
    #: The chunk function; the compiled module also has <function>_openmp for mode="openmp".
    function: str
    #: Items (rows, numbers, samples, values) a chunk, fixed by the problem (box_blur grows it with the
    #: radius: see gilkit.kernels.blur_rows_per_chunk).
    chunk_size: int
    result_dtype: type[np.generic] | None = None
    fold: Fold = keep
    initial: Callable[[], Any] = _nothing

    def chunks(self, start: int, stop: int) -> Chunks:
        """[start, stop) in chunks of this plan's size."""
        return Chunks(start, stop, self.chunk_size)

    def job(self, chunks: Chunks, arrays: tuple[np.ndarray, ...] = (), params: tuple[Any, ...] = (),
            outputs: tuple[int, ...] = ()) -> "Job":
        """One call's job: these chunks, with these arrays and parameters."""
        return Job(self.module, self.function, chunks, arrays, params, outputs, self.result_dtype, self.fold,
                   self.initial())

