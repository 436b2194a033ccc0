"""Blur a .npy image larger than the process may map: gilkit.dask band by band, under RLIMIT_AS.

    python benchmarks/out_of_core.py [--rows 16384] [--columns 32768] [--limit-mib 1024] [--dir DIR]

Writes a float64 image of integers (rows x columns, 4 GiB by default) with gilkit.dask.write_npy, then
runs each pipeline in a fresh Python and reports its time and peak RSS (VmHWM: ru_maxrss would include
the RSS of the process that forked it):

* ``read_npy -> box_blur -> write_npy`` (Dask's threads), under an address-space limit below the
  image's size, and again without one;
* the same blur over ``np.load(mmap_mode="r")``, which maps the whole file at once (without a limit:
  under it, the map is refused);
* the control: ``np.load`` of the whole image under the limit, which must fail.

Bands of the result are checked bit for bit against the in-memory gilkit.box_blur of the same rows.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dask.array as da
import numpy as np

import gilkit
import gilkit.dask as gd

CHILD = """
import resource, sys, time
limit = int(sys.argv[1])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import dask.array as da
import numpy as np
import gilkit.dask as gd
image, out, radius, chunks = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
started = time.perf_counter()
{code}
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(time.perf_counter() - started, int(peak) * 1024)
"""
PIPELINES = {
    "read_npy -> box_blur -> write_npy":
        "gd.write_npy(gd.box_blur(gd.read_npy(image, chunks=chunks), radius), out, scheduler='threads')",
    'np.load(mmap_mode="r") -> box_blur -> write_npy':
        "gd.write_npy(gd.box_blur(da.from_array(np.load(image, mmap_mode='r'), chunks=(chunks, -1)), radius), out,"
        " scheduler='threads')",
    "np.load (the whole image in memory)": "np.load(image)",
}
# Address space that Python reserves without using it, kept small: glibc's malloc arenas, OpenBLAS's
# buffers, and the 1 GiB arena that mimalloc (the allocator of free-threaded CPython) reserves up front.
LEAN = {"MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1", "MIMALLOC_ARENA_RESERVE": "64MiB"}


def run(pipeline, limit, image, out, radius, chunks):
    """(seconds, peak RSS bytes) of one pipeline in a fresh Python, or the last line of its error."""
    arguments = [str(limit), image, out, str(radius), str(chunks)]
    completed = subprocess.run([sys.executable, "-c", CHILD.format(code=PIPELINES[pipeline]), *arguments],
                               capture_output=True, text=True, env={**os.environ, **LEAN})
    if completed.returncode:
        return completed.stderr.strip().splitlines()[-1]
    seconds, peak = completed.stdout.split()[-2:]
    return float(seconds), int(peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16384)
    parser.add_argument("--columns", type=int, default=32768)
    parser.add_argument("--limit-mib", type=int, default=1024, help="RLIMIT_AS of the limited runs")
    parser.add_argument("--radius", type=int, default=4)
    parser.add_argument("--chunks", type=int, default=128, help="rows a band")
    parser.add_argument("--dir", default=None, help="where the image and results go (default: a temporary dir)")
    args = parser.parse_args()
    limit = args.limit_mib << 20
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        image, out = str(Path(scratch, "image.npy")), str(Path(scratch, "blurred.npy"))
        started = time.perf_counter()
        pixels = da.random.default_rng(14).integers(0, 256, (args.rows, args.columns), chunks=(512, -1))
        gd.write_npy(pixels.astype(np.float64), image)
        size = os.path.getsize(image)
        print(f"gilkit.dask out of core: gilkit {gilkit.__version__}, Python {sys.version.split()[0]}")
        print(f"image: {args.rows} x {args.columns} float64, {size / 2**30:.2f} GiB on disk, written in "
              f"{time.perf_counter() - started:.1f} s; box_blur radius {args.radius}, bands of {args.chunks} rows "
              f"({args.chunks * args.columns * 8 / 2**20:.0f} MiB), Dask's threaded scheduler\n")
        print(f"{'pipeline':<50} {'address space':>15} {'seconds':>8} {'peak RSS':>10}")
        for pipeline, with_limit in ((0, True), (0, False), (1, False), (2, True)):
            name = list(PIPELINES)[pipeline]
            measured = run(name, limit if with_limit else 0, image, out, args.radius, args.chunks)
            bound = f"<= {args.limit_mib} MiB" if with_limit else "unlimited"
            if isinstance(measured, str):
                print(f"{name:<50} {bound:>15}   refused: {measured}")
                continue
            seconds, peak = measured
            print(f"{name:<50} {bound:>15} {seconds:>8.1f} {peak / 2**20:>6.0f} MiB")
            if pipeline < 2:
                check(image, out, args.radius)
        print("\nbands of every result checked bit for bit against the in-memory gilkit.box_blur of the same rows")


def check(image, out, radius):
    source, result = np.load(image, mmap_mode="r"), np.load(out, mmap_mode="r")
    rows = len(source)
    for start in (0, rows // 2, rows - 100):
        above, below = max(start - radius, 0), min(start + 100 + radius, rows)
        expected = gilkit.box_blur(source[above:below], radius)[start - above : start - above + 100]
        if not np.array_equal(result[start : start + 100], expected):
            raise SystemExit(f"rows {start}..{start + 100} differ from the in-memory blur")


if __name__ == "__main__":
    main()
