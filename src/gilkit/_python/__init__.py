"""Pure-Python twins of the compiled kernels in ext/.

Each module has the same function names as its native counterpart, runs the same algorithm and does
its floating-point operations in the same order, so both give bit-for-bit identical results. They use
no NumPy inside their loops: this is the readable reference, and the code that runs under the GIL.
Buffers arrive as Python memoryviews (format 'i', 'q' or 'd'), which index like lists: the types below
say what a twin does with one, and what an item of it is.
"""

from typing import Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Items(Protocol[T_co]):
    """A buffer the twin reads, one item at a time."""

    def __getitem__(self, index: int, /) -> T_co: ...

    def __len__(self) -> int: ...


class MutableItems(Protocol[T]):
    """A buffer the twin reads and writes, one item at a time."""

    def __getitem__(self, index: int, /) -> T: ...

    def __setitem__(self, index: int, value: T, /) -> None: ...

    def __len__(self) -> int: ...


#: The call's cancel flag: one int, set to non-zero to stop (see gilkit._cancel).
Cancel = Items[int]
