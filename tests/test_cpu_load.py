"""What other programs took of the CPUs while gilkit measured: read from /proc/stat, less gilkit's own time.

The live test needs no idle machine: a spinning child is one of the "other programs", so whatever else
runs, the share read covers at least the CPU time the child was seen to use."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from procs import cpu_seconds, wait_until

from gilkit._cpu_load import CpuTimes, others_busy_share, read_cpu_times

linux_only = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="no /proc/stat: the load is not read here")


def fake_proc(tmp_path, *cpus):
    """A /proc with a stat file of these per-CPU (user, nice, system, idle, iowait, irq, softirq, steal)
    ticks, and no processes."""
    lines = ["cpu  0 0 0 0 0 0 0 0 0 0"] + [f"cpu{i} " + " ".join(map(str, (*ticks, 0, 0))) for i, ticks in
                                         enumerate(cpus)]
    (tmp_path / "stat").write_text("\n".join(lines) + "\nintr 0\n")
    return tmp_path


@linux_only
def test_busy_ticks_count_user_system_interrupts_and_steal_not_idle_of_the_usable_cpus(tmp_path):
    usable = os.sched_getaffinity(0)
    # One CPU more than the highest usable one: a CPU this process may not use is not counted.
    found = read_cpu_times(fake_proc(tmp_path, *[(1, 2, 3, 1000, 500, 4, 5, 6)] * (max(usable) + 2)))
    assert found is not None and found.cpus == len(usable)
    assert found.busy_s == pytest.approx(len(usable) * 21 / os.sysconf("SC_CLK_TCK"))


@pytest.mark.parametrize("busy_s, own_s, share", [
    (0.0, 0.0, 0.0),     # idle
    (1.0, 1.0, 0.0),     # busy only with this process: nobody else
    (1.0, 0.0, 0.5),     # one other CPU-second in one second on 2 CPUs: one spinner
    (3.0, 0.0, 1.0),     # more than the CPUs had (tick rounding): at most all of it
], ids=["idle", "only-us", "one-spinner", "clamped"])
def test_the_share_is_the_busy_time_others_took_of_the_cpus(busy_s, own_s, share):
    before = CpuTimes(wall_s=10.0, busy_s=100.0, own_s=5.0, cpus=2)
    after = CpuTimes(wall_s=11.0, busy_s=100.0 + busy_s, own_s=5.0 + own_s, cpus=2)
    assert others_busy_share(before, after) == pytest.approx(share)


def test_without_two_readings_the_share_is_unknown(tmp_path):
    reading = CpuTimes(wall_s=1.0, busy_s=0.0, own_s=0.0, cpus=1)
    assert others_busy_share(None, reading) is None and others_busy_share(reading, None) is None
    assert others_busy_share(reading, reading) is None  # no time passed
    assert read_cpu_times(tmp_path) is None  # no stat file


def another_programs_spinner():
    """A spinning process that is not this process's child (a child's CPU time counts as this process's
    own, as a process pool's workers' does): started by a shell that leaves it behind. Its pid."""
    started = subprocess.run(["sh", "-c", f"'{sys.executable}' -c 'while True: pass' >/dev/null 2>&1 & echo $!"],
                             capture_output=True, text=True, check=True, timeout=60)
    return int(started.stdout)


@linux_only
def test_a_spinning_process_is_seen_and_this_processs_own_work_is_not():
    spinner = another_programs_spinner()
    try:
        before, spun_before = read_cpu_times(), cpu_seconds(spinner)
        deadline = time.monotonic() + 60  # a bound, not a measurement: fails instead of hanging
        while cpu_seconds(spinner) - spun_before < 0.5:
            assert time.monotonic() < deadline, "the spinner got no CPU time in 60 s"
            sum(range(10_000))  # this process works too, and must not count
        after, spun = read_cpu_times(), cpu_seconds(spinner) - spun_before
    finally:
        os.kill(spinner, signal.SIGKILL)
    others_s = others_busy_share(before, after) * (after.wall_s - before.wall_s) * after.cpus
    assert others_s >= spun - 0.05, (others_s, spun)  # tick rounding: a few ticks


@linux_only
def test_a_grandchilds_work_counts_as_this_processs_own():
    """A process pool's workers are the children of its forkserver: this process's grandchildren."""
    shell = subprocess.Popen(["sh", "-c", f"'{sys.executable}' -c 'while True: pass' & echo $!; wait"],
                             stdout=subprocess.PIPE, text=True)
    try:
        grandchild = int(shell.stdout.readline())
        before, spun_before = read_cpu_times(), cpu_seconds(grandchild)
        wait_until(lambda: cpu_seconds(grandchild) - spun_before >= 0.5, 60, "the grandchild to spin 0.5 s")
        after, spun = read_cpu_times(), cpu_seconds(grandchild) - spun_before
    finally:
        os.kill(grandchild, signal.SIGKILL)
        shell.wait()
        shell.stdout.close()
    assert after.own_s - before.own_s >= spun - 0.05, (after.own_s - before.own_s, spun)
