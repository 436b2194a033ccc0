"""The bench's figures a class can trust: speedups from paired rounds with their interval, bounds that are
checked rather than printed, and a first screen that says when they stand on a wide interval, a flag or a
busy machine. Fed with made-up times, so nothing here depends on the machine's speed or load."""

import dataclasses
import math
import statistics

import pytest

from gilkit import bench
from gilkit.report import Cell, Report, format_matrix
from gilkit.verdict import BUSY_SHARE, HELD_SPEEDUP_LIMIT, INTERVAL_TARGET, Evidence, GilReading, GilWait, verdict

TIMING = bench.Timing(budget_s=1e9, min_repeats=6, max_repeats=30)


class Measurements:
    """A run(count) that takes no time: one worker 1 s, two workers 1/speed s (times 1 + the next of
    ``noise``). Without noise a set of rounds stops at TIMING.min_repeats, so each set of that many rounds
    takes the next of ``speeds``."""

    def __init__(self, *speeds, noise=()):
        self.speeds, self.noise, self.calls = speeds, noise, 0

    @property
    def sets(self):
        return self.calls // (2 * TIMING.min_repeats)

    def __call__(self, count):
        speed = self.speeds[min(self.sets, len(self.speeds) - 1)]
        self.calls += 1
        if count == 1:
            return 1.0
        return (1 + (self.noise[self.calls % len(self.noise)] if self.noise else 0.0)) / speed


def measured(speeds, *, held=False, data_bytes=0, noise=()):
    """time_within_bounds of one trial on made-up times: the trial, its flags, and the run that made them."""
    run = Measurements(*speeds, noise=noise)
    trial = bench.Trial(run, [1, 2], held, data_bytes)
    flags = bench.time_within_bounds([trial], TIMING)
    return trial, flags.get(0, {}), run


def test_a_speedup_is_the_median_of_paired_ratios_with_its_interval():
    single = [1.0, 1.2, 0.9, 1.1, 1.0, 1.3, 1.0]
    double = [0.5, 0.6, 0.5, 0.5, 0.55, 0.6, 0.5]
    found = bench.paired_speedup(single, double)
    assert found.median == statistics.median(a / b for a, b in zip(single, double, strict=True))
    assert found.low <= found.median <= found.high and found.confidence >= 0.95


def test_rounds_stop_once_the_interval_is_narrow():
    trial, flags, _ = measured([1.9])
    assert trial.rounds == TIMING.min_repeats and flags == {}
    assert trial.speedups()[2].median == pytest.approx(1.9)


def test_rounds_go_on_while_the_interval_is_wide_until_the_budget_ends():
    trial, _, _ = measured([1.5], noise=(0.0, 0.4, -0.3, 0.2, -0.2))
    assert trial.rounds == TIMING.max_repeats
    assert trial.speedups()[2].relative_half_width > INTERVAL_TARGET


def test_the_trials_take_turns_round_by_round_so_a_disturbance_cannot_fill_one_trials_rounds():
    calls = []

    def trial(name):
        def run(count):
            calls.append(name)
            slowed = len(calls) == 1  # the machine stalls during the very first call, a 1-worker one
            return (5.0 if slowed else 1.0) * (1.0 if count == 1 else 0.5)
        return bench.Trial(run, [1, 2])

    first, second = trial("first"), trial("second")
    bench.time_rounds([first, second], TIMING)
    assert calls[:8] == ["first", "first", "second", "second"] * 2  # a round each, in turn
    assert first.times_s[1][0] == 5.0  # the stalled round is there, and outvoted:
    assert first.speedups()[2].median == second.speedups()[2].median == 2.0


def test_a_superlinear_speedup_is_measured_again_and_flagged_if_it_persists():
    _, flags, run = measured([2.6, 2.6])
    assert run.sets == 2  # measured twice
    assert set(flags) == {2} and "above 2 workers" in flags[2]


def test_a_superlinear_speedup_that_does_not_come_back_is_not_flagged():
    trial, flags, run = measured([2.6, 1.9])
    assert run.sets == 2 and flags == {}
    assert trial.speedups()[2].median == pytest.approx(1.9)


def test_a_superlinear_speedup_names_the_cache_when_one_workers_data_does_not_fit():
    l2 = bench.L2_CACHE_BYTES
    if not l2:
        pytest.skip("this machine does not say how large a core's L2 cache is")
    _, flags, _ = measured([2.6, 2.6], data_bytes=int(1.5 * l2))
    assert "does not fit one core's L2 cache" in flags[2]


def test_a_speedup_while_the_gil_was_held_is_flagged():
    _, flags, _ = measured([1.5, 1.5], held=True)
    assert "yet the GIL was held" in flags[2]
    _, flags, _ = measured([HELD_SPEEDUP_LIMIT - 0.1], held=True)
    assert flags == {}


def cell(impl, workers, speedup=None, low=None, high=None, *, busy=None, flag=None, released=True):
    reading = GilReading(0.95 if released else 0.02, (0.01, 0.01) if released else (0.5, 0.47), 10, 0.3,
                         GilWait(math.nan if released else 3.0, math.nan if released else 4.0, meter="timeline"))
    return Cell("mandelbrot", impl, "threads", workers, 100, "pixels", 100, [1.0] * 6,
                gil_reading=reading if workers > 1 else None, others_busy=busy, speedup=speedup,
                speedup_low=low, speedup_high=high, flag=flag)


def matrix(*cells):
    return format_matrix(Report({"build": "CPython (GIL)", "gil_enabled": True}, list(cells)))


def test_the_first_screen_shows_the_reading_under_each_speedup():
    screen = matrix(cell("native", 1, 1.0), cell("native", 2, 1.9, 1.85, 1.95),
                    cell("python", 1, 1.0), cell("python", 2, 0.97, 0.95, 0.99, released=False))
    row = next(line for line in screen.splitlines() if line.startswith("mandelbrot"))
    under = screen.splitlines()[screen.splitlines().index(row) + 1]
    assert row.split() == ["mandelbrot", "1.90x", "releases", "0.97x", "hands", "over"]
    assert under.split() == ["GIL", "free", "95%", "held", "50%/47%"]
    assert "~" not in screen and "!" not in screen and "Other programs" not in screen
    assert max(map(len, screen.splitlines())) <= 80


def test_a_wide_interval_is_marked_and_given():
    screen = " ".join(matrix(cell("native", 1, 1.0), cell("native", 2, 1.5, 1.1, 1.9)).split())
    assert "~1.50x releases" in screen and "native 1.10-1.90x" in screen


def test_a_flagged_speedup_is_marked_with_its_reason():
    screen = " ".join(matrix(cell("native", 1, 1.0),
                             cell("native", 2, 2.5, 2.4, 2.6, flag="2.50x twice, above 2 workers")).split())
    assert "!2.50x releases" in screen and "!: mandelbrot native: 2.50x twice, above 2 workers" in screen


def test_a_gil_each_is_explained_under_the_matrix_only_where_it_is_shown():
    threads = [cell("python", 1, 1.0), cell("python", 2, 0.97, 0.95, 0.99, released=False)]
    processes = [Cell("mandelbrot", "python", "processes", workers, 100, "pixels", 100, [1.0] * 6,
                      speedup=speedup, speedup_low=speedup, speedup_high=speedup)
                 for workers, speedup in ((1, 1.0), (2, 1.8))]
    explained = "a GIL each: each worker is a process or a subinterpreter"
    assert explained not in matrix(*threads)
    screen = matrix(*threads, *processes)
    assert "1.80x a GIL each" in screen and "2 processes" in screen and explained in screen
    wide = " ".join(matrix(*threads, *processes[:1], dataclasses.replace(processes[1], speedup_low=1.2)).split())
    assert "mandelbrot python (processes) 1.20-1.80x" in wide


@pytest.mark.parametrize("busy, noted", [(None, False), (0.0, False), (BUSY_SHARE - 0.01, False), (0.5, True)],
                         ids=["unknown", "idle", "below-the-threshold", "beside-a-spinner"])
def test_the_first_screen_says_when_other_programs_kept_the_cpus_busy(busy, noted):
    screen = " ".join(matrix(cell("native", 1, 1.0, busy=busy), cell("native", 2, 1.9, 1.85, 1.95, busy=busy)).split())
    assert ("Other programs took 50% of the CPUs" in screen) is noted
    assert ("speedups are lower bounds" in screen) is noted


NOBODY_WAITED = GilWait(math.nan, math.nan, meter="timeline")


@pytest.mark.parametrize("reading, finding", [
    # Two threads in sqlite3 or lzma: the GIL free throughout and nobody waiting for it: the free share
    # says it, whether or not a wait happened to be sampled.
    (GilReading(1.0, (0.0, 0.0), 3, 0.5, NOBODY_WAITED), "releases"),
    (GilReading(0.45, (0.3, 0.25), 40, 0.5, GilWait(0.8, 1.5, meter="timeline")), "releases"),
    (GilReading(0.02, (0.5, 0.47), 90, 0.5, GilWait(3.0, 4.2, meter="timeline")), "hands over"),
    (GilReading(0.0, (0.55, 0.45), 9, 0.5, GilWait(60.0, 120.0, meter="timeline")), "holds"),
    (GilReading(0.0, (0.99,), 0, 0.5, NOBODY_WAITED), "holds"),  # one thread, alone with the GIL
], ids=["free-no-waits", "mostly-free", "python-threads", "json-dumps", "alone"])
def test_the_verdict_reads_the_free_share_first_then_how_long_a_holder_kept_the_gil(reading, finding):
    assert verdict(Evidence(reading.wait, reading, gil=True)).finding == finding
