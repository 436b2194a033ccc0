"""gilkit.dask: the in-memory results, bit for bit, on Dask's threads, its processes and a real LocalCluster."""

import os
import subprocess
import sys

import numpy as np
import pytest
from procs import child_processes, wait_until
from support import BAD_CALLS, FREE_THREADED, gil_enabled, needs_native

import gilkit
from gilkit import demos
from gilkit.kernels import blur_rows_per_chunk

NEEDS = 'gilkit.dask needs Dask: pip install "gilkit[dask]"'
dask = pytest.importorskip("dask", reason=NEEDS)
da = pytest.importorskip("dask.array", reason=NEEDS)
distributed = pytest.importorskip("distributed", reason=NEEDS)
gd = pytest.importorskip("gilkit.dask", reason=NEEDS)

RNG = np.random.default_rng(14)
IMAGE = RNG.random((150, 90))
VALUES = RNG.standard_normal(3 * gilkit.kernels.SUM_SQUARES_PER_CHUNK + 1234)
ACTIVE = gilkit.ACTIVE_IMPLEMENTATION
WINDOW = {"xmin": -0.75, "xmax": -0.7, "ymin": 0.1, "ymax": 0.15}


@pytest.fixture(scope="module")
def cluster_client():
    """A real LocalCluster of 2 single-threaded worker processes, and its Client; closed at the end of the module,
    when its worker processes must be gone."""
    with dask.config.set(gd.cluster_config()), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            workers = list(client.run(os.getpid).values())
            yield client
    wait_until(lambda: not child_processes(os.getpid()) & set(workers), 30, "the cluster's worker processes to end")


@pytest.fixture(params=["threads", "cluster"])
def compute(request):
    """Compute dask collections on the threaded scheduler, or on the LocalCluster."""
    if request.param == "threads":
        return lambda *collections: da.compute(*collections, scheduler="threads")
    client = request.getfixturevalue("cluster_client")
    return lambda *collections: tuple(client.compute(list(collections), sync=True))


@pytest.mark.parametrize("chunks", [512, (7, 40), (64, -1), 1], ids=lambda c: f"chunks={c}")
def test_mandelbrot_tiles_give_the_in_memory_image_bit_for_bit(impl, compute, chunks):
    width, height = (23, 11) if chunks == 1 else (90, 70)
    lazy = gd.mandelbrot(width, height, chunks=chunks, max_iter=200, impl=impl, **WINDOW)
    (image,) = compute(lazy)
    assert image.dtype == np.int32 and lazy.shape == image.shape == (height, width)
    np.testing.assert_array_equal(image, gilkit.mandelbrot(width, height, max_iter=200, impl=impl, **WINDOW))


def test_count_primes_and_estimate_pi_give_the_in_memory_results(impl, compute):
    n, samples = 3 * gilkit.kernels.PRIMES_PER_SEGMENT + 12345, 2 * gilkit.kernels.PI_SAMPLES_PER_CHUNK + 77
    span = gilkit.kernels.PRIMES_PER_SEGMENT
    primes, pi = compute(gd.count_primes(n, chunks=span, impl=impl),
                         gd.estimate_pi(samples, seed=5, chunks=1, impl=impl))
    assert primes == gilkit.count_primes(n, impl=impl)
    assert pi.hex() == gilkit.estimate_pi(samples, seed=5, impl=impl).hex()
    assert (compute(gd.count_primes(1, impl=impl))[0], compute(gd.count_primes(2, impl=impl))[0]) == (0, 1)


@pytest.mark.parametrize("chunks", [1000, gilkit.kernels.SUM_SQUARES_PER_CHUNK, 100_000, -1],
                         ids=lambda c: f"chunks={c}")
def test_sum_squares_adds_the_kernels_chunk_sums_in_order_whatever_the_chunks(impl, compute, chunks):
    (total,) = compute(gd.sum_squares(da.from_array(VALUES, chunks=chunks), impl=impl))
    assert type(total) is float
    assert total.hex() == gilkit.sum_squares(VALUES, impl=impl).hex()
    assert compute(gd.sum_squares(da.zeros(0, chunks=1), impl=impl)) == (0.0,)


@pytest.mark.parametrize("radius", [0, 2, 70, 200])
def test_box_blur_is_bit_for_bit_where_the_chunks_align(impl, compute, radius):
    rows = blur_rows_per_chunk(radius)
    (blurred,) = compute(gd.box_blur(da.from_array(IMAGE, chunks=(rows, -1)), radius, impl=impl))
    np.testing.assert_array_equal(blurred, gilkit.box_blur(IMAGE, radius, impl=impl))


@pytest.mark.parametrize("chunks", [(40, 30), (64, 17), (150, 45)], ids=lambda c: f"chunks={c}")
@pytest.mark.parametrize("radius", [1, 5, 100])
def test_box_blur_within_rounding_elsewhere(impl, compute, chunks, radius):
    lazy = gd.box_blur(da.from_array(IMAGE, chunks=chunks), radius, impl=impl)
    (blurred,) = compute(lazy)
    assert lazy.chunks == da.from_array(IMAGE, chunks=chunks).chunks or radius >= min(IMAGE.shape)
    np.testing.assert_allclose(blurred, gilkit.box_blur(IMAGE, radius, impl=impl), rtol=1e-12, atol=0)


def test_box_blur_reads_any_real_dtype_like_the_kernel():
    pixels = (IMAGE * 1000).astype(np.uint16)
    lazy = gd.box_blur(da.from_array(pixels, chunks=(64, -1)), 3, impl=ACTIVE)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), gilkit.box_blur(pixels, 3, impl=ACTIVE))


def test_the_processes_scheduler_gives_the_same_results():
    arrays = (gd.mandelbrot(40, 30, chunks=16, max_iter=100, impl=ACTIVE, **WINDOW), gd.box_blur(IMAGE, 2, impl=ACTIVE))
    image, blurred = da.compute(*arrays, scheduler="processes", num_workers=2)
    np.testing.assert_array_equal(image, gilkit.mandelbrot(40, 30, max_iter=100, impl=ACTIVE, **WINDOW))
    np.testing.assert_array_equal(blurred, gilkit.box_blur(IMAGE, 2, impl=ACTIVE))
    # Computed apart from the arrays: dask 2026.8's compute() returns mixed arrays and delayed out of order.
    graphs = (gd.count_primes(10**5, impl=ACTIVE), gd.estimate_pi(10**5, seed=1, impl=ACTIVE),
              gd.sum_squares(VALUES, impl=ACTIVE))
    assert da.compute(*graphs, scheduler="processes", num_workers=2) == (
        9592, gilkit.estimate_pi(10**5, seed=1, impl=ACTIVE), gilkit.sum_squares(VALUES, impl=ACTIVE))


@needs_native
def test_an_image_larger_than_memory_is_lazy_and_computes_only_the_tiles_read():
    side = 2**20  # 4 TiB of int32
    with pytest.raises(ValueError, match=r"width \* height is too large"):
        gilkit.mandelbrot(side, side)
    lazy = gd.mandelbrot(side, side, chunks=2**13, max_iter=20)  # 256 MiB a tile
    corner = lazy[1000:1010, 2000:2010].compute(scheduler="sync")
    grid = gilkit.kernels.MandelbrotGrid.checked(side, side, 20, -2.0, 1.0, -1.25, 1.25)
    np.testing.assert_array_equal(corner, grid.tile((1000, 1010), (2000, 2010), "native"))
    with pytest.raises(ValueError, match="chunks=512 makes 4,194,304 tasks, more than gilkit.dask.MAX_TASKS"):
        gd.mandelbrot(side, side)


MEMORY_ONLY = {"image-too-big"}  # the dask mandelbrot is not held in memory at once: one tile must fit
SAME_ERRORS = [case for case in BAD_CALLS if case[0] not in MEMORY_ONLY]


@pytest.mark.parametrize("function, args, kwargs", [case[1:4] for case in SAME_ERRORS], ids=[c[0] for c in SAME_ERRORS])
def test_bad_arguments_get_the_in_memory_error_before_any_task_runs(function, args, kwargs):
    with pytest.raises(Exception) as in_memory:
        function(*args, **kwargs, impl="python")
    with pytest.raises(in_memory.type) as lazy:
        getattr(gd, function.__name__)(*args, **kwargs, impl="python")
    assert str(lazy.value) == str(in_memory.value)


@pytest.mark.parametrize("function, args", [(gd.mandelbrot, (10, 10)), (gd.count_primes, (100,)),
                                            (gd.estimate_pi, (100,)), (gd.sum_squares, (VALUES,)),
                                            (gd.box_blur, (IMAGE, 1))], ids=lambda f: getattr(f, "__name__", ""))
def test_bad_impl_gets_the_in_memory_error(function, args):
    with pytest.raises(ValueError) as in_memory:
        getattr(gilkit, function.__name__)(*args, impl="cuda")
    with pytest.raises(ValueError) as lazy:
        function(*args, impl="cuda")
    assert str(lazy.value) == str(in_memory.value)


@pytest.mark.parametrize("function, chunks, error, message", [
    (lambda c: gd.mandelbrot(100, 100, chunks=c), 0, ValueError, r"chunks \(rows\) must be >= 1, or -1"),
    (lambda c: gd.mandelbrot(100, 100, chunks=c), (10, -2), ValueError, r"chunks \(columns\) must be >= 1, or -1"),
    (lambda c: gd.mandelbrot(100, 100, chunks=c), (1, 2, 3), ValueError, "a pair .rows, columns., got 3 values"),
    (lambda c: gd.mandelbrot(100, 100, chunks=c), "auto", TypeError, r"chunks \(rows\) must be an integer, not str"),
    (lambda c: gd.mandelbrot(100, 100, chunks=c), 2.5, TypeError, r"chunks \(rows\) must be an integer"),
    (lambda c: gd.mandelbrot(1000, 1000, chunks=c), 1, ValueError, "makes 1,000,000 tasks"),
    (lambda c: gd.count_primes(10**6, chunks=c), 0, ValueError, "chunks must be >= 1"),
    # A task sieves at least one segment, whose size follows this machine's cache (4 MiB at most).
    (lambda c: gd.count_primes(10**14, chunks=c), 10, ValueError,
     f"makes {-(-(10**14 + 1) // gilkit.kernels.PRIMES_PER_SEGMENT):,} tasks"),
    (lambda c: gd.estimate_pi(10**6, chunks=c), 1.0, TypeError, "chunks must be an integer"),
], ids=["zero", "negative", "three", "auto", "float", "too-many-tiles", "primes-zero", "primes-too-many", "pi-float"])
def test_bad_chunks(function, chunks, error, message):
    with pytest.raises(error, match=message):
        function(chunks)


def test_dask_arrays_are_checked_from_their_metadata():
    with pytest.raises(TypeError, match="image must be a real numeric array, not an array of dtype complex128"):
        gd.box_blur(da.ones((4, 4), dtype=complex), 1)
    with pytest.raises(ValueError, match="values must be 1-D, got 2-D"):
        gd.sum_squares(da.ones((4, 4)))
    with pytest.raises(TypeError, match="image must not be a masked array"):
        gd.box_blur(da.from_array(np.ma.masked_array(IMAGE, mask=IMAGE > 0.5)), 1)
    unknown = da.from_array(VALUES, chunks=1000)
    unknown = unknown[unknown > 0]
    with pytest.raises(ValueError, match=r"values has chunks of unknown size.*compute_chunk_sizes"):
        gd.sum_squares(unknown)


def test_worker_processes_keep_the_gil_as_the_build_has_it(cluster_client):
    """On a free-threaded build, nothing the workers import (distributed, gilkit) may switch the GIL back on."""
    enabled = cluster_client.run(gil_enabled)
    assert len(enabled) == 2 and set(enabled.values()) == {not FREE_THREADED}


@needs_native
def test_the_dask_demo_runs_every_scheduler_shows_the_dashboards_and_leaves_no_process():
    lines = []
    before = child_processes(os.getpid())  # e.g. gilkit's own process pool, kept for the next call
    result = demos.dask_demo(rounds=1, announce=lines.append, sizes={"native": (64, 48), "python": (16, 12)})
    assert [row[:2] for row in result.rows] == [[impl, name] for impl in ("native", "python") for name in (
        "one thread (sync)", "threads: 2", "processes: 2", "LocalCluster: 2 workers x 1 thread",
        "LocalCluster: 1 worker x 2 threads")]
    assert len(lines) == 2 and all("dashboard http://" in line for line in lines), lines
    assert all(row[2] > 0 and row[4] > 0 for row in result.rows), result.table()
    wait_until(lambda: child_processes(os.getpid()) <= before, 30, "the demo's worker processes to end")


LIMITED = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
import gilkit.dask as gd
{code}
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""
# Address space that Python reserves without using it, kept small: glibc's malloc arenas, OpenBLAS's
# buffers, and the 1 GiB arena that mimalloc (the allocator of free-threaded CPython) reserves up front.
LEAN = {"MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1", "MIMALLOC_ARENA_RESERVE": "64MiB"}


def run_limited(code, limit, *args):
    """Run ``code`` in a Python whose address space may not exceed ``limit`` bytes: its peak RSS in bytes (VmHWM;
    ru_maxrss would count the RSS of this process, which forked it)."""
    completed = subprocess.run([sys.executable, "-c", LIMITED.format(code=code), str(limit), *map(str, args)],
                               capture_output=True, text=True, timeout=600, env={**os.environ, **LEAN})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return int(completed.stdout.split()[-1]) * 1024


@needs_native
@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS bounds mmap, and /proc/self/status says VmHWM, on Linux")
def test_an_image_larger_than_the_address_space_allowed_is_blurred_band_by_band(tmp_path):
    image, blurred, limit, radius = tmp_path / "image.npy", tmp_path / "blurred.npy", 768 << 20, 4
    shape = (8192, 16384)  # 1 GiB of float64, integers: every blurred value is exact, whatever the bands
    pixels = da.random.default_rng(14).integers(0, 256, shape, chunks=(512, -1)).astype(np.float64)
    gd.write_npy(pixels, image)
    with pytest.raises(AssertionError, match="MemoryError|Cannot allocate memory"):
        run_limited("np.load(sys.argv[2])", limit, image)  # the control: the whole image does not fit
    peak = run_limited(f"gd.write_npy(gd.box_blur(gd.read_npy(sys.argv[2], chunks=128), {radius}), sys.argv[3], "
                       "scheduler='threads', num_workers=2)", limit, image, blurred)
    band, idle = 128 * shape[1] * 8, run_limited("pass", limit)
    assert peak < limit < image.stat().st_size
    assert peak - idle < 24 * band  # the bands in flight (about 15 here), not the image's 64
    source, result = np.load(image, mmap_mode="r"), np.load(blurred, mmap_mode="r")
    for rows in (slice(0, 200), slice(4000, 4300), slice(8000, 8192)):
        above, below = max(rows.start - radius, 0), min(rows.stop + radius, shape[0])
        expected = gilkit.box_blur(source[above:below], radius)[rows.start - above : rows.stop - above]
        np.testing.assert_array_equal(result[rows], expected)
    del source, result
    for path in (image, blurred):  # now, before the kernel writes their 2 GiB back to disk beside later tests
        path.unlink()


def test_cluster_config_switches_the_workers_profiler_off_only_without_a_gil(cluster_client):
    """distributed's profiler reads other threads' frames: a use-after-free on a free-threaded build."""
    profiling = cluster_client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert set(profiling.values()) == {not FREE_THREADED}
