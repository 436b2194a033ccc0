"""gilkit's kernels on Dask: lazy arrays and task graphs, for data larger than memory or than one machine.

``pip install "gilkit[dask]"``. Each function checks its arguments exactly as the in-memory kernel does,
with the same messages, before any task runs; each task is one in-memory kernel call on its part of the
problem (with ``workers=1``: Dask is the executor here). The results equal the in-memory kernels':

* :func:`mandelbrot`, :func:`count_primes`, :func:`estimate_pi`, :func:`sum_squares`: bit for bit, for
  any chunks (every pixel comes from its own row and column; counts are integers; the sums of squares
  are the kernel's own chunk sums, added left to right);
* :func:`box_blur`: bit for bit where the chunks line up with the kernel's, within rounding elsewhere
  (its docstring says when).

The scheduler is the caller's choice, and the lesson is the GIL's one level up: Dask's default threaded
scheduler runs ``impl="native"`` tasks in parallel because they release the GIL; ``impl="python"`` tasks
need the processes scheduler or a ``dask.distributed`` cluster of single-threaded workers (on a GIL
build), paying for the transfers. ``gilkit demo dask`` measures it.

:func:`read_npy` and :func:`write_npy` read and write a ``.npy`` file band by band, so an image larger
than memory can be blurred; :func:`cluster_config` is what a distributed cluster needs on this build.
"""

import math
import os
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

try:
    import dask
    import dask.array as da
    from dask.delayed import Delayed
except ImportError as exc:  # the core package runs without Dask
    raise ImportError(f'gilkit.dask needs Dask: pip install "gilkit[dask]" ({exc})') from exc

from . import _validate, kernels
from ._arithmetic import ceil_div
from ._build import free_threaded_build
from ._executor import Chunks
from ._implementations import Impl, kernel_module

__all__ = ["MAX_TASKS", "box_blur", "cluster_config", "count_primes", "estimate_pi", "mandelbrot", "read_npy",
           "sum_squares", "write_npy"]

#: The most tasks one call may make: a graph much larger costs the scheduler more than its tasks gain.
MAX_TASKS = 100_000
#: mandelbrot's default tiles: 512 x 512 pixels.
TILE = 512
#: count_primes' and estimate_pi's default numbers (or samples) a task: 16 of estimate_pi's chunks
#: (count_primes rounds it up to a whole segment of its sieve).
SPAN = 16 * kernels.PI_SAMPLES_PER_CHUNK


def cluster_config() -> dict[str, Any]:
    """The ``dask.config`` a ``dask.distributed`` cluster started from this interpreter needs (set it while
    the cluster starts: ``with dask.config.set(cluster_config()): LocalCluster(...)``).

    On a free-threaded build, the workers' sampling profiler is switched off: it reads other threads'
    frames from ``sys._current_frames()``, a use-after-free without the GIL (python/cpython#152355),
    which crashed workers here within a minute of work. Elsewhere, nothing.
    """
    return {"distributed.worker.profile.enabled": False} if free_threaded_build() else {}


def mandelbrot(width: int, height: int, *, chunks: int | tuple[int, int] = TILE, max_iter: int = 256,
               xmin: float = -2.0, xmax: float = 1.0, ymin: float = -1.25, ymax: float = 1.25,
               impl: Impl = "native") -> da.Array:
    """:func:`gilkit.mandelbrot` as a lazy ``height`` x ``width`` int32 dask array of tiles.

    ``chunks`` is the tile: one side for square tiles, or (rows, columns); -1 takes a whole axis. Any
    tiling gives the in-memory image bit for bit. The image need not fit in memory; one tile must.
    """
    grid = kernels.MandelbrotGrid.checked(width, height, max_iter, xmin, xmax, ymin, ymax)
    impl = _validate.implementation(impl)
    tiles = _tiles(chunks, (grid.height, grid.width))
    _validate.fits_in_memory("chunks", 4 * max(tiles[0]) * max(tiles[1]), "one int32 tile")
    return da.map_blocks(_mandelbrot_tile, grid, impl, chunks=tiles, dtype=np.int32,
                         meta=np.empty((0, 0), dtype=np.int32), token="mandelbrot")


def _mandelbrot_tile(grid: kernels.MandelbrotGrid, impl: Impl, block_info: dict[Any, Any]) -> NDArray[np.int32]:
    rows, columns = block_info[None]["array-location"]
    return grid.tile(rows, columns, impl)


def _tiles(chunks: object, shape: tuple[int, int]) -> tuple[tuple[int, ...], ...]:
    """mandelbrot's ``chunks``, checked, as dask's chunks of ``shape``."""
    pair = chunks if isinstance(chunks, (tuple, list)) else (chunks, chunks)
    if len(pair) != 2:
        raise ValueError(f"chunks must be one tile side or a pair (rows, columns), got {len(pair)} values")
    sides = []
    for axis, side, extent in zip(("rows", "columns"), pair, shape, strict=True):
        number = _validate.integer(f"chunks ({axis})", side)
        if number < 1 and number != -1:
            raise ValueError(f"chunks ({axis}) must be >= 1, or -1 for the whole axis; got {number}")
        sides.append(extent if number == -1 else min(number, extent))
    _check_tasks(math.prod(ceil_div(extent, side) for side, extent in zip(sides, shape, strict=True)), "chunks", chunks)
    return da.core.normalize_chunks(tuple(sides), shape)


def _check_tasks(tasks: int, name: str, value: object) -> None:
    if tasks > MAX_TASKS:
        raise ValueError(f"{name}={value!r} makes {tasks:,} tasks, more than gilkit.dask.MAX_TASKS = {MAX_TASKS:,}: "
                         f"pass larger {name}")


def count_primes(n: int, *, chunks: int = SPAN, impl: Impl = "native") -> Delayed:
    """:func:`gilkit.count_primes` as a task graph: one task finds the base primes up to sqrt(n), each
    other task sieves ``chunks`` numbers (rounded up to whole segments of the kernel, PRIMES_PER_SEGMENT),
    and the last one adds the counts. ``.compute()`` gives the int."""
    n = _validate.integer("n", n, maximum=kernels.MAX_COUNT)
    impl = _validate.implementation(impl)
    span = _span(chunks, kernels.PRIMES_PER_SEGMENT, max(n + 1, 0))
    if n < 2:
        return dask.delayed(0)
    kernels.check_base_primes_fit(n)
    base_primes = dask.delayed(kernels.base_primes, pure=True)(n)
    counts = [dask.delayed(kernels.count_primes_between, pure=True)(base_primes, start, stop, impl)
              for start, stop in Chunks(0, n + 1, span)]
    return dask.delayed(sum, pure=True)(counts)


def estimate_pi(samples: int, *, seed: int = 0, chunks: int = SPAN, impl: Impl = "native") -> Delayed:
    """:func:`gilkit.estimate_pi` as a task graph: each task counts the hits of ``chunks`` samples
    (rounded up to whole 262,144-sample chunks of the kernel) of the stream, the last one makes the
    estimate. ``.compute()`` gives the float, bit for bit the in-memory one for (samples, seed)."""
    samples = _validate.integer("samples", samples, minimum=1, maximum=kernels.MAX_COUNT)
    seed = _validate.integer("seed", seed, minimum=0, maximum=(1 << 64) - 1)
    impl = _validate.implementation(impl)
    span = _span(chunks, kernels.PI_SAMPLES_PER_CHUNK, samples)
    key = kernel_module(impl, "montecarlo").stream_key(seed)
    hits = [dask.delayed(kernels.count_hits_between, pure=True)(key, start, stop, impl)
            for start, stop in Chunks(0, samples, span)]
    return dask.delayed(kernels.pi_from_hits, pure=True)(dask.delayed(sum, pure=True)(hits), samples)


def _span(chunks: object, unit: int, total: int) -> int:
    """``chunks`` (numbers a task) checked and rounded up to a whole number of the kernel's ``unit``."""
    span = unit * ceil_div(_validate.integer("chunks", chunks, minimum=1), unit)
    _check_tasks(ceil_div(total, span), "chunks", chunks)
    return span


def sum_squares(values: ArrayLike, *, impl: Impl = "native") -> Delayed:
    """:func:`gilkit.sum_squares` of a 1-D dask array (or anything NumPy reads as one), as a task graph.

    The array is rechunked, if need be, so that every chunk starts at a multiple of the kernel's 65,536
    values; each task returns the kernel's sum of each of its chunks, and the last task adds them all
    left to right: the in-memory float, bit for bit, whatever the chunks. ``.compute()`` gives it.
    """
    array = _dask_array("values", values, ndim=1)
    impl = _validate.implementation(impl)
    unit = kernels.SUM_SQUARES_PER_CHUNK
    rechunked = array.rechunk(_on_unit_boundaries(array.chunks[0], unit))
    sums_per_block = tuple(ceil_div(size, unit) for size in rechunked.chunks[0])
    partials = rechunked.map_blocks(_square_sums, impl, chunks=(sums_per_block,), dtype=np.float64, meta=np.empty(0),
                                    token="square_sums")
    return dask.delayed(kernels.add_in_order, pure=True)(partials)


def _on_unit_boundaries(chunks: tuple[int, ...], unit: int) -> tuple[int, ...]:
    """``chunks`` if each one but the last is a multiple of ``unit``, else chunks of the nearest multiple."""
    if all(size % unit == 0 for size in chunks[:-1]):
        return chunks
    size = unit * max(1, round(max(chunks) / unit))
    return da.core.normalize_chunks(size, (sum(chunks),))[0]


def _square_sums(block: NDArray[Any], impl: Impl) -> NDArray[np.float64]:
    return np.array(kernels.square_sums_by_chunk(_validate.real_array("values", block, ndim=1), impl))


def box_blur(image: ArrayLike, radius: int, *, impl: Impl = "native") -> da.Array:
    """:func:`gilkit.box_blur` of a 2-D dask array (or anything NumPy reads as one): a lazy float64 dask
    array of the same shape and chunks, by ``map_overlap`` (``radius`` rows and columns of overlap,
    nearest-edge boundaries: the kernel's clamped edges).

    Bit for bit the in-memory result when the array is one chunk across and each row chunk but the last
    is a multiple of ``gilkit.kernels.blur_rows_per_chunk(radius)`` (64 rows for radii up to 7): then every
    running sum restarts where the kernel restarts it. Otherwise the sums restart elsewhere, and values
    may differ in their last bits, by about 1e-15 of the magnitudes in the window (within 1e-12 relative
    for data of one sign).
    """
    array = _dask_array("image", image, ndim=2)
    _validate.not_empty("image", array.shape)
    radius = _validate.integer("radius", radius, minimum=0, maximum=kernels.MAX_SIDE)
    impl = _validate.implementation(impl)
    depth = {}
    for axis in (0, 1):
        # An axis in one chunk needs no overlap: the kernel clamps at its edges itself, as in memory.
        if len(array.chunks[axis]) > 1 and radius >= array.shape[axis]:
            array = array.rechunk({axis: -1})  # dask's overlap cannot reach past the far edge
        depth[axis] = radius if len(array.chunks[axis]) > 1 else 0
    rows, columns = (max(array.chunks[axis]) + 2 * depth[axis] for axis in (0, 1))
    kernels.check_running_sums_fit(columns, radius, 1)
    _validate.fits_in_memory("radius", 2 * 8 * rows * columns, f"one chunk with its overlap of radius {radius}")
    return array.map_overlap(_blur_block, depth=depth, boundary="nearest", dtype=np.float64, meta=np.empty((0, 0)),
                             token="box_blur", radius=radius, row_depth=depth[0], impl=impl)


def _blur_block(block: NDArray[Any], radius: int, row_depth: int, impl: Impl) -> NDArray[np.float64]:
    """One chunk with its overlap blurred; the overlap's rows are left unset (map_overlap trims them)."""
    pixels = _validate.real_array("image", block, ndim=2)
    rows = Chunks(row_depth, pixels.shape[0] - row_depth, kernels.blur_rows_per_chunk(radius))
    return kernels.blur_rows(pixels, rows, radius, impl)


def _dask_array(name: str, value: object, *, ndim: int) -> da.Array:
    """``value`` as a dask array, checked as the in-memory kernels check theirs (dtype, dimensions)."""
    if not isinstance(value, da.Array):
        return da.from_array(_validate.real_numeric_array(name, value, ndim=ndim))
    _validate.not_masked(name, value._meta)
    _validate.real_layout(name, value.dtype, value.shape, ndim=ndim)
    _known_chunks(name, value)
    return value


def _known_chunks(name: str, array: da.Array) -> None:
    if any(math.isnan(size) for size in array.shape):
        raise ValueError(f"{name} has chunks of unknown size, shape {array.shape}: call {name}.compute_chunk_sizes() "
                         "first")


#: read_npy's default chunk: whole rows, about this many bytes.
NPY_CHUNK_BYTES = 32 << 20


def read_npy(path: str | os.PathLike[str], *, chunks: int | None = None) -> da.Array:
    """A .npy file as a lazy dask array of row bands (``chunks`` rows each; default: about 32 MiB).

    Each task memory-maps only its own band of the file, for as long as the band is in use: the process
    never maps nor holds the whole file, so an image larger than memory, or than the address space a
    process is allowed (RLIMIT_AS), can be blurred band by band and written back by :func:`write_npy`.
    ``np.load(path, mmap_mode="r")`` would map the whole file at once.
    """
    path = os.fspath(path)
    shape, dtype, offset = _npy_layout(path)
    rows = (max(1, NPY_CHUNK_BYTES // max(_row_bytes(shape, dtype), 1)) if chunks is None
            else _validate.integer("chunks", chunks, minimum=1))
    bands = da.core.normalize_chunks((rows, *shape[1:]), shape)
    return da.map_blocks(_mapped_rows, path, offset, dtype, chunks=bands, dtype=dtype,
                         meta=np.empty((0,) * len(shape), dtype=dtype), token="read_npy")


def _npy_layout(path: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, offset of the data) of a C-order .npy file of plain numbers, read from its header."""
    with open(path, "rb") as file:
        try:
            version = np.lib.format.read_magic(file)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            shape, fortran_order, dtype = read_header[version](file)
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path} is not a .npy file of version 1.0 or 2.0: {exc}") from None
        offset = file.tell()
    if fortran_order:
        raise ValueError(f"{path} holds a Fortran-order array, whose rows are not contiguous in the file")
    if not shape or dtype.hasobject:
        raise ValueError(f"{path} holds {'Python objects' if dtype.hasobject else 'a 0-D array'}: read_npy reads "
                         "arrays of numbers with at least one dimension")
    return shape, dtype, offset


def _mapped_rows(path: str, offset: int, dtype: np.dtype, block_info: dict[Any, Any]) -> NDArray[Any]:
    (start, _), *_ = block_info[None]["array-location"]
    shape = block_info[None]["chunk-shape"]
    if math.prod(shape) == 0:
        return np.empty(shape, dtype=dtype)  # nothing to map
    return _map_rows(path, offset, dtype, start, shape, "r")


def _map_rows(path: str, offset: int, dtype: np.dtype, start: int, shape: tuple[int, ...],
              mode: Literal["r", "r+"]) -> np.memmap:
    """A memory map of ``shape[0]`` rows of the .npy data at ``offset``, from row ``start`` on."""
    return np.memmap(path, dtype=dtype, mode=mode, offset=offset + start * _row_bytes(shape, dtype), shape=shape)


def _row_bytes(shape: tuple[int, ...], dtype: np.dtype) -> int:
    return dtype.itemsize * math.prod(shape[1:])


def write_npy(array: da.Array, path: str | os.PathLike[str], **compute: Any) -> None:
    """Compute ``array`` chunk by chunk into a new .npy file at ``path`` (``compute``: dask's compute
    options, e.g. ``scheduler="threads"``): the header first, then each chunk through a memory map of
    just the rows it covers. The whole array is never in memory, nor mapped."""
    if not isinstance(array, da.Array):
        raise TypeError(f"array must be a dask array, not {type(array).__name__}")
    _known_chunks("array", array)
    path = os.fspath(path)
    header = {"descr": np.lib.format.dtype_to_descr(array.dtype), "fortran_order": False, "shape": array.shape}
    with open(path, "wb") as file:
        np.lib.format.write_array_header_2_0(file, header)
        offset = file.tell()
        file.truncate(offset + int(array.nbytes))
    if array.nbytes:
        # dask's annotations ask for an array; its docs accept any target with __setitem__.
        da.store(array, _MappedRows(path, offset, array.shape, array.dtype), lock=False,  # type: ignore[arg-type]
                 **compute)


class _MappedRows:
    """A .npy file's data as da.store writes it: each chunk through a map of the rows it covers."""

    def __init__(self, path: str, offset: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path, self.offset, self.shape, self.dtype = path, offset, shape, dtype

    def __setitem__(self, region: tuple[slice, ...], chunk: NDArray[Any]) -> None:
        rows, *rest = region
        start, stop, _ = rows.indices(self.shape[0])
        mapped = _map_rows(self.path, self.offset, self.dtype, start, (stop - start, *self.shape[1:]), "r+")
        mapped[(slice(None), *rest)] = chunk
        mapped.flush()
