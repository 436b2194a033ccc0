"""HeartbeatProbe: on time while the other thread is outside the GIL, starved while it holds it; its control
heartbeat never needs the GIL, so it keeps beating either way."""

import time

import pytest
from support import gil_enabled, needs_native, needs_two_cpus

import gilkit
from gilkit._steady import INSIDE, chunk_max_iter


@pytest.mark.skipif(not gil_enabled(), reason="no GIL to meter: the beats would only show how free the CPUs are")
def test_beats_while_the_main_thread_sleeps():
    with gilkit.HeartbeatProbe(interval=0.001) as probe:
        time.sleep(0.2)  # the workload: blocking in sleep releases the GIL
    # Holding the GIL for those 0.2 s would let at most one beat through; how punctual the beats are
    # depends on free CPUs, so that is not asserted.
    assert probe.beats >= 5, probe
    assert 0 <= probe.median_ms <= probe.p99_ms <= probe.max_ms


@needs_native
@needs_two_cpus
@pytest.mark.skipif(not gil_enabled(), reason="no GIL to hold; tests/test_gil.py shows calls overlapping instead")
def test_starved_by_one_long_call_that_holds_the_gil():
    # One chunk of rows, each pixel inside the set: a single compiled call of tens of ms, GIL held.
    rows, max_iter = gilkit.kernels.MANDELBROT_ROWS_PER_CHUNK, chunk_max_iter(1500, 0.05)
    with gilkit.HeartbeatProbe(interval=0.001) as probe:
        start = time.perf_counter()
        gilkit.mandelbrot(1500, rows, max_iter=max_iter, impl="native-gil", **INSIDE)
        held_ms = 1000 * (time.perf_counter() - start)
    assert probe.max_ms > 0.5 * held_ms, (probe, held_ms)
    # The control heartbeat sleeps in the extension without the GIL: the held GIL does not starve it.
    assert len(probe.control_lateness_s) > 5 * probe.beats, probe
    assert probe.gil_max_ms > 0.5 * held_ms, probe


def test_no_beats_reads_as_nan_not_zero():
    probe = gilkit.HeartbeatProbe()
    assert probe.beats == 0 and probe.median_ms != probe.median_ms


@pytest.mark.parametrize("interval, error", [(0, ValueError), (-1, ValueError), (float("inf"), ValueError),
                                             ("1ms", TypeError), (True, TypeError)])
def test_bad_interval(interval, error):
    with pytest.raises(error, match="interval"):
        gilkit.HeartbeatProbe(interval)


def test_a_probe_is_entered_once():
    probe = gilkit.HeartbeatProbe()
    with probe:
        pass
    with pytest.raises(RuntimeError, match="once"):
        probe.__enter__()


def test_the_gils_share_is_the_python_heartbeats_lateness_less_the_controls():
    probe = gilkit.HeartbeatProbe()
    probe.lateness_s[:] = [0.004, 0.005, 0.006]
    probe.control_lateness_s[:] = [0.001, 0.001, 0.002]
    assert probe.gil_median_ms == pytest.approx(4.0) and probe.gil_max_ms == pytest.approx(4.0)
    probe.control_lateness_s[:] = [0.009]  # a control later than the Python beat: no share, not a negative one
    assert probe.gil_median_ms == 0.0


@needs_native
def test_the_control_heartbeat_runs_beside_the_python_one():
    with gilkit.HeartbeatProbe(interval=0.001) as probe:
        time.sleep(0.1)
    assert probe.controlled and len(probe.control_lateness_s) >= 5
    assert probe.control_median_ms >= 0
