"""Ctrl-C during count_primes(5*10**9, workers=2, mode="processes"), again and again, per start method.

    python benchmarks/ctrl_c_soak.py [--runs 200]

Each run starts a child in its own session, waits until the call is computing, sends SIGINT to the whole
process group (a terminal's Ctrl-C) and counts: hangs (no exit within 20 s), exits other than
KeyboardInterrupt, traceback noise (more than the caller's one), processes and /dev/shm segments left.
"""

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from procs import cpu_seconds, session_processes, wait_until  # noqa: E402

CHILD = """
import gilkit
gilkit.set_start_method({method!r})
print("ready", flush=True)
gilkit.count_primes(5 * 10**9, workers=2, mode="processes")
"""


def segments():
    return {p.name for p in Path("/dev/shm").iterdir() if p.name.startswith("psm_")}


def one_run(method):
    before = segments()
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(method=method)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    outcome = {"hang": 0, "not_keyboard_interrupt": 0, "noise": 0, "processes_left": 0, "segments_left": 0}
    try:
        child.stdout.readline()
        start = cpu_seconds(session=child.pid)
        wait_until(lambda: cpu_seconds(session=child.pid) > start + 0.3, 120, "the call to compute")
        os.killpg(child.pid, signal.SIGINT)
        try:
            _, stderr = child.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            outcome["hang"] = 1
            return outcome
        lines = stderr.strip().splitlines()
        outcome["not_keyboard_interrupt"] = int(not lines or not lines[-1].startswith("KeyboardInterrupt"))
        outcome["noise"] = int(stderr.count("Traceback") > 1)
        if outcome["not_keyboard_interrupt"] or outcome["noise"]:
            indented = "\n".join("      " + line for line in lines)
            print(f"    {method}: an odd exit, its stderr:\n{indented}", flush=True)
        try:
            wait_until(lambda: not session_processes(child.pid), 10, "workers to end")
        except AssertionError:
            outcome["processes_left"] = 1
        try:
            wait_until(lambda: not segments() - before, 10, "segments to go")
        except AssertionError:
            outcome["segments_left"] = 1
        return outcome
    finally:
        for pid in session_processes(child.pid):
            os.kill(pid, signal.SIGKILL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.runs} Ctrl-C runs per start method during count_primes(5*10**9, workers=2, mode='processes')")
    for method in [m for m in ("forkserver", "spawn", "fork") if m in multiprocessing.get_all_start_methods()]:
        totals = {}
        for _ in range(args.runs):
            for key, value in one_run(method).items():
                totals[key] = totals.get(key, 0) + value
        print(f"  {method:<10} " + ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in totals.items()),
              flush=True)


if __name__ == "__main__":
    main()
