"""GIL evidence that a busy machine cannot fake: whether other Python code runs *during* a compiled call,
and how late a heartbeat thread wakes compared with the length of one chunk.

On a GIL build: native releases the GIL (the main thread acts during its call; the heartbeat is on
time), native-gil holds it through every chunk (nothing else runs until the call ends; each beat
waits about a chunk), python hands it over every switch interval. On a free-threaded build there is
no GIL to hold: every impl behaves like native. Neither check needs an idle CPU: other processes only
stretch every duration alike.
"""

import sys
import threading
import time

import numpy as np
import pytest
from support import gil_enabled, needs_native

import gilkit
from gilkit import bench
from gilkit._implementations import chunk_function
from gilkit._registry import WORKLOADS
from gilkit._steady import INSIDE, chunk_max_iter
from gilkit.gil_timeline import gil_unreadable_reason
from gilkit.kernels import MANDELBROT_ROWS_PER_CHUNK
from gilkit.verdict import RELEASED_FREE_SHARE, Evidence, verdict

WIDTH = 1000


def compiled_max_iter():
    """About 50 ms a chunk of rows on this machine, whatever its speed and ISA variant."""
    return chunk_max_iter(WIDTH, 0.05)


def run_mandelbrot(impl, rows):
    max_iter = 1000 if impl == "python" else compiled_max_iter()
    width = 60 if impl == "python" else WIDTH
    return gilkit.mandelbrot(width, rows, max_iter=max_iter, impl=impl, **INSIDE)


def main_thread_acts_during_call(impl, rows):
    """Whether the main thread set the call's cancel flag while the compiled call ran on another thread."""
    out = np.full(rows * WIDTH, -1, dtype=np.int32)
    cancel = np.zeros(1, dtype=np.intc)
    dx, dy = gilkit.kernels.mandelbrot_steps(WIDTH, rows, **INSIDE)
    call = chunk_function(impl, "mandelbrot", "mandelbrot_rows")
    worker = threading.Thread(target=call, args=(memoryview(out), 0, 0, WIDTH, compiled_max_iter(), INSIDE["xmin"],
                                                 INSIDE["ymin"], dx, dy, 0, rows, memoryview(cancel)))
    worker.start()
    while out[WIDTH - 1] == -1:  # the call has finished its first row: it is running
        time.sleep(0)
    cancel[0] = 1  # this line runs during the call only if the call let go of the GIL
    worker.join()
    return bool((out == -1).any())


@needs_native
@pytest.mark.parametrize("impl", ["native", "native-gil"])
def test_other_python_code_runs_during_a_compiled_call_only_if_it_releases_the_gil(impl):
    if impl == "native" or not gil_enabled():
        # Free to run is not the same as given a CPU: on a busy host the main thread may wait out a whole
        # call for one, so the release has to show in one of calls of growing length, not in each.
        assert any(main_thread_acts_during_call(impl, rows) for rows in (16, 64, 256))
    else:
        # Under a held GIL the main thread cannot run until the call ends, however long it is.
        assert not main_thread_acts_during_call(impl, 16)


def heartbeat_during(impl):
    """The probe, and the mean duration of one chunk of rows, measured in the same run."""
    rows = 4 * MANDELBROT_ROWS_PER_CHUNK
    with gilkit.HeartbeatProbe(interval=0.001) as probe:
        wall = time.perf_counter()
        run_mandelbrot(impl, rows)
        wall = time.perf_counter() - wall
    assert probe.beats >= 3, probe
    return probe, 1000 * wall / (rows // MANDELBROT_ROWS_PER_CHUNK)


@pytest.mark.skipif(not gil_enabled(), reason="no GIL to meter: a heartbeat's lateness would only show waits for a "
                    "CPU; the overlap test above shows that every compiled call runs beside other Python code")
def test_heartbeat_lateness_shows_who_holds_the_gil(impl):
    probe, chunk_ms = heartbeat_during(impl)
    # A busy CPU delays every beat a little; only holding the GIL delays it by a good part of a chunk.
    if impl == "native":
        assert probe.median_ms < max(1.0, 0.2 * chunk_ms), (probe, chunk_ms)
    elif impl == "native-gil":
        # The compiled loop never offers the GIL inside a chunk, so a beat waits about a whole chunk (the
        # median says little: the few beats it gets fall between chunks, on time).
        assert probe.max_ms > max(1.0, 0.5 * chunk_ms), (probe, chunk_ms)
    else:
        # The twin's bytecode hands the GIL over when asked, after the switch interval.
        assert probe.median_ms > 0.25 * 1000 * sys.getswitchinterval(), probe


@needs_native
@pytest.mark.skipif(gil_unreadable_reason() is not None, reason=f"the GIL is not read here: {gil_unreadable_reason()}")
@pytest.mark.parametrize("impl, finding", [("native", "releases"), ("native-gil", "hands over"),
                                           ("python", "hands over")])
def test_the_bench_reads_each_impls_gil_on_two_workers_and_gives_its_word(impl, finding):
    """The bench's GIL column, as it reads it: the shares come from the sampler, so busy CPUs (which only
    stretch every state alike) leave the word as it is."""
    workload = WORKLOADS["mandelbrot"]
    reading = bench.read_gil(workload.problem(workload.size(impl, quick=True)), impl, "threads", 2)
    found = verdict(Evidence(reading.wait, reading))
    assert found.finding == finding, found
    assert len(reading.held_shares) == 2  # each worker's share: both ran chunks
    if finding == "releases":
        assert reading.free_share >= RELEASED_FREE_SHARE and reading.brief().startswith("GIL free")
    else:
        assert reading.free_share < RELEASED_FREE_SHARE and reading.brief().startswith("held")
