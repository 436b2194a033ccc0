"""Ctrl-C stops a long kernel call in every impl and mode, and leaves no process behind.

Each case runs in a child process in its own session. Once the call is computing (the session's CPU
time has grown), SIGINT goes to the whole process group, as a terminal's Ctrl-C does. Each call would
run for many minutes if its loops did not poll a cancel flag; the timeout only tells a stopped call
from one that runs on.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from procs import HAVE_PROC, cpu_seconds, session_processes, wait_until
from support import needs_native, shared_memory_segments

import gilkit
from gilkit._executor import interpreters

# Every pixel inside the set, 2**31 - 1 iterations each: hours of work, in one chunk of 8 rows (or two).
# Rows so wide that a loop which stopped only at the next row (not at once) would outlast the timeout.
FOREVER = "gilkit.mandelbrot(10_000, {rows}, max_iter=2**31 - 1, xmin=-0.5, xmax=0.1, ymin=-0.1, ymax=0.1, {how})"
CASES = {
    "native": FOREVER.format(rows=8, how="impl='native'"),
    "native-gil": FOREVER.format(rows=8, how="impl='native-gil'"),
    "native-2-threads": FOREVER.format(rows=16, how="impl='native', workers=2"),
    "python-2-threads": FOREVER.format(rows=16, how="impl='python', workers=2"),
    "openmp": "gilkit.mandelbrot(4000, 3000, max_iter=500_000, mode='openmp', workers=2)",
    "openmp-one-chunk": FOREVER.format(rows=8, how="mode='openmp', workers=2"),
    "processes": "gilkit.count_primes(5 * 10**9, workers=2, mode='processes')",
    # The largest sizes accepted: they must start at once (lazily made chunks, a base sieve in short steps).
    "estimate-pi-2**62": "gilkit.estimate_pi(2**62, workers=2)",
    "count-primes-2**62": "gilkit.count_primes(2**62, workers=2)",
    # Spawned workers take a while to start: Ctrl-C must not reach one that is still importing.
    "processes-spawn": "gilkit.set_start_method('spawn'); gilkit.count_primes(5 * 10**9, workers=2, mode='processes')",
    "interpreters": "gilkit.count_primes(5 * 10**9, impl='python', workers=2, mode='interpreters')",
}
#: Why a case cannot run here (None: it can).
UNABLE = {"openmp": None if gilkit.OPENMP_ENABLED else "this build has no OpenMP",
          "interpreters": interpreters.UNAVAILABLE_REASON}
UNABLE["openmp-one-chunk"] = UNABLE["openmp"]

CHILD = """
import sys, numpy as np, gilkit
print("ready", flush=True)
{call}
print("finished", flush=True)
"""


def ctrl_c_when_computing(python_args, cpu_seconds_first, ready_line=None):
    """Run Python with ``python_args`` in a session of its own; after it prints ``ready_line`` (if given)
    and has then used ``cpu_seconds_first`` of CPU, send SIGINT to its group (a terminal's Ctrl-C).
    Returns (child, stdout, stderr)."""
    child = subprocess.Popen([sys.executable, *python_args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    with child:  # its pipes are closed whatever happens
        try:
            if ready_line is not None:
                assert child.stdout.readline() == ready_line
            start = cpu_seconds(session=child.pid)
            wait_until(lambda: cpu_seconds(session=child.pid) > start + cpu_seconds_first, 120, "the work to start")
            os.killpg(child.pid, signal.SIGINT)
            stdout, stderr = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    return child, stdout, stderr


@needs_native
@pytest.mark.skipif(not HAVE_PROC, reason="reads CPU times from /proc (Linux)")
@pytest.mark.parametrize("case", CASES)
def test_ctrl_c_stops_a_long_call_and_leaves_nothing_behind(case):
    if UNABLE.get(case):
        pytest.skip(UNABLE[case])
    child, stdout, stderr = ctrl_c_when_computing(["-c", CHILD.format(call=CASES[case])], cpu_seconds_first=0.3,
                                                  ready_line="ready\n")
    assert "finished" not in stdout, "the call ran to its end: Ctrl-C came too late to test anything"
    assert child.returncode != 0 and stderr.splitlines()[-1].startswith("KeyboardInterrupt"), stderr
    assert stderr.count("Traceback") == 1, stderr  # the caller's only: no noise from workers
    wait_until(lambda: not session_processes(child.pid), 30, "every worker process to end")


def raised_flag():
    return memoryview(np.ones(1, dtype=np.intc))


@pytest.mark.parametrize("kernel", ["mandelbrot", "blur", "montecarlo"])
def test_a_raised_flag_stops_a_chunk_before_its_work(impl, kernel):
    module = gilkit._implementations.kernel_module(impl, kernel)
    if kernel == "mandelbrot":
        out = np.full(12, -1, dtype=np.int32)
        module.mandelbrot_rows(memoryview(out), 0, 0, 4, 10**9, -0.5, -0.1, 0.01, 0.01, 0, 3, raised_flag())
        assert (out == -1).all()
    elif kernel == "blur":
        out = np.full(6, np.nan)
        module.box_blur_rows(memoryview(np.ones(6)), memoryview(out), 2, 3, 10**6, 0, 2, raised_flag())
        assert np.isnan(out).all()
    else:
        assert module.count_hits(12345, 0, 10**12, raised_flag()) == 0


@pytest.mark.skipif(not HAVE_PROC, reason="reads CPU times from /proc (Linux)")
@pytest.mark.parametrize("start_method", ["forkserver", "spawn", "fork"])
def test_workers_and_shared_memory_go_when_the_caller_is_killed(start_method):
    import multiprocessing

    if start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{start_method} is not available on this platform")
    before = shared_memory_segments()
    call = ("gilkit.set_start_method({method!r}); "
            "gilkit.count_primes(10**12, impl='python', workers=2, mode='processes')")  # hours; base primes shared
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(call=call.format(method=start_method))],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    with child:  # closes its stdout pipe at the end
        try:
            assert child.stdout.readline() == "ready\n"
            start = cpu_seconds(session=child.pid)
            wait_until(lambda: len(session_processes(child.pid)) >= 3 and cpu_seconds(session=child.pid) > start + 0.5,
                       120, "the workers to compute")
            assert shared_memory_segments() - before, "the call should have its array in shared memory by now"
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
            wait_until(lambda: not session_processes(child.pid), 30, "the orphaned workers to exit")
            wait_until(lambda: not shared_memory_segments() - before, 30, "the resource tracker to unlink the segment")
        finally:
            for pid in session_processes(child.pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not HAVE_PROC, reason="reads CPU times from /proc (Linux)")
@pytest.mark.parametrize("command", [
    ["bench", "--kernels", "mandelbrot"],
    ["probe", "sum(i * i for i in range(10**6))"],  # Ctrl-C while the probe's threads run the statement
    pytest.param(["demo", "ctypes"], marks=needs_native),
], ids=lambda command: " ".join(command[:2]))
def test_ctrl_c_in_a_gilkit_command_prints_one_line_and_exits_130(command):
    child, _, stderr = ctrl_c_when_computing(["-m", "gilkit", *command], cpu_seconds_first=1.0)
    assert child.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "gilkit: interrupted" and "Traceback" not in stderr, stderr


def processes_running(argument):
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if argument.encode() in cmdline.read_bytes().split(b"\0"):
                found.append(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.skipif(not HAVE_PROC, reason="reads process lists from /proc (Linux)")
def test_ctrl_c_ends_gilkit_shell_even_when_an_escaped_child_holds_its_output():
    escaped, waiting = "600.4242", "6000.4242"  # sleep's arguments, to find the processes
    child = subprocess.Popen([sys.executable, "-m", "gilkit", "shell", f"setsid sleep {escaped} & sleep {waiting}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_until(lambda: processes_running(escaped) and processes_running(waiting), 60, "the command to start")
        os.killpg(child.pid, signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
        assert not processes_running(waiting)  # the command's own group was killed
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        for pid in processes_running(escaped) + processes_running(waiting):
            os.kill(pid, signal.SIGKILL)
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr


@needs_native
@pytest.mark.skipif(not HAVE_PROC, reason="reads CPU times from /proc (Linux)")
def test_a_process_that_ignores_ctrl_c_keeps_ignoring_it_during_a_call():
    # nohup and a shell's background jobs ignore SIGINT: gilkit must not put a handler of its own in front.
    # Seconds of work (not hours): it must end by itself, Ctrl-C or not.
    seconds = FOREVER.format(rows=8, how="impl='native'").replace("2**31 - 1", "30_000")
    ignoring = "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)\n" + CHILD.format(call=seconds)
    child, stdout, stderr = ctrl_c_when_computing(["-c", ignoring], cpu_seconds_first=0.3, ready_line="ready\n")
    assert child.returncode == 0 and "finished" in stdout, stderr
