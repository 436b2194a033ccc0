"""GIL evidence with robust signals: a heartbeat thread's wake-up lateness, and CPU time vs wall time.

On a GIL build: native releases the GIL (the heartbeat is on time, 2 workers burn ~2 CPUs), native-gil
holds it through every chunk (the heartbeat is starved, 2 workers burn ~1 CPU), python hands it over
every switch interval (the heartbeat is ~5 ms late, 2 workers burn ~1 CPU). On a free-threaded build
there is no GIL to hold: every impl behaves like native.
"""

import sys
import time

from conftest import gil_enabled, needs_two_cpus

import gilkit
from gilkit.demos import INSIDE  # inside the set: every pixel runs max_iter updates
from gilkit.kernels import MANDELBROT_ROWS_PER_CHUNK

pytestmark = needs_two_cpus

SIZES = {"native": (1000, 80, 1000), "native-gil": (1000, 80, 1000), "python": (60, 32, 1000)}


def run_mandelbrot(impl, workers=1):
    width, height, max_iter = SIZES[impl]
    return gilkit.mandelbrot(width, height, max_iter=max_iter, impl=impl, workers=workers, **INSIDE)


def heartbeat_during(impl):
    """The probe, and the mean duration of one chunk of rows, measured in the same run."""
    with gilkit.HeartbeatProbe(interval=0.001) as probe:
        wall = time.perf_counter()
        run_mandelbrot(impl)
        wall = time.perf_counter() - wall
    chunks = -(-SIZES[impl][1] // MANDELBROT_ROWS_PER_CHUNK)
    assert probe.beats >= 3, probe
    return probe, 1000 * wall / chunks


def cpu_per_wall(impl, workers):
    cpu, wall = time.process_time(), time.perf_counter()
    run_mandelbrot(impl, workers)
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


def test_heartbeat_lateness_shows_who_holds_the_gil(impl):
    probe, chunk_ms = heartbeat_during(impl)
    if impl == "native" or not gil_enabled():
        assert probe.median_ms < 1.0, probe
    elif impl == "native-gil":
        # The compiled loop never offers the GIL inside a chunk: each beat waits for a whole chunk.
        assert probe.median_ms > max(1.0, 0.5 * chunk_ms), (probe, chunk_ms)
    else:
        # The twin's bytecode hands the GIL over when asked, after the switch interval.
        assert probe.median_ms > 0.25 * 1000 * sys.getswitchinterval(), probe


def test_two_workers_use_two_cpus_only_outside_the_gil(impl):
    ratio = cpu_per_wall(impl, workers=2)
    if impl == "native" or not gil_enabled():
        assert ratio > 1.5, f"{impl}: 2 workers kept only {ratio:.2f} CPUs busy"
    else:
        assert ratio < 1.3, f"{impl}: 2 workers kept {ratio:.2f} CPUs busy although the GIL serialises them"
