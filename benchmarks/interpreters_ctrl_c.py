"""Ctrl-C at random moments during mode="interpreters" calls, in one process, again and again.

    python benchmarks/interpreters_ctrl_c.py [--calls 200] > results/interpreters-ctrl-c-cpython3.13.txt

Each call is count_primes(5 * 10**7, impl="python", workers=2, mode="interpreters") (about a second); a
timer sends SIGINT to the process at a random moment in its first 0.6 s (the first call's included, while
its interpreters start). Counted: calls that ended in KeyboardInterrupt, the longest time from the signal
to the call's end, and, after every call and after gilkit.shutdown(): interpreters beyond the main one and
the pool's, threads beyond the main one, and shared-memory segments left.
"""

import argparse
import os
import random
import signal
import threading
import time
from pathlib import Path

import gilkit
from gilkit._build import build_label
from gilkit._executor import interpreters


def segments() -> set[str]:
    return {path.name for path in Path("/dev/shm").iterdir() if path.name.startswith("psm_")}


def interrupt(sent: list[float]) -> None:
    """SIGINT to this process, as a terminal's Ctrl-C, noting when it was sent."""
    sent[0] = time.perf_counter()
    os.kill(os.getpid(), signal.SIGINT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    assert interpreters._MODULE is not None, interpreters.UNAVAILABLE_REASON
    before = segments()
    rng = random.Random(13)
    interrupted, slowest = 0, 0.0
    leftovers = {"interpreters": 0, "threads": 0, "segments": 0}
    for _ in range(args.calls):
        sent = [0.0]
        timer = threading.Timer(rng.uniform(0.0, 0.6), interrupt, (sent,))
        try:
            timer.start()
            try:
                gilkit.count_primes(5 * 10**7, impl="python", workers=2, mode="interpreters")
            finally:
                timer.join()
                ended = time.perf_counter()
        except KeyboardInterrupt:
            interrupted += 1
            slowest = max(slowest, ended - sent[0])
        for worker in interpreters.POOL._workers:  # one interrupted while it started goes on starting
            worker._ready.wait()
        pool = len(interpreters.POOL._workers)
        leftovers["interpreters"] += len(interpreters._MODULE.list_all()) - 1 != pool
        leftovers["threads"] += threading.active_count() - 1 != pool
        leftovers["segments"] += bool(segments() - before)
    gilkit.shutdown()
    print(f"{args.calls} calls of count_primes(5 * 10**7, impl='python', workers=2, mode='interpreters') on "
          f"{build_label()}, SIGINT at a random moment in the first 0.6 s of each")
    print(f"ended by KeyboardInterrupt: {interrupted}; the rest finished first")
    print(f"longest from the signal to the call's end: {1000 * slowest:.0f} ms")
    print("calls after which more than the pool's remained (once any worker interrupted while it started has "
          f"started): {', '.join(f'{kind} {count}' for kind, count in leftovers.items())}")
    print(f"after gilkit.shutdown(): interpreters {len(interpreters._MODULE.list_all())} (the main one), "
          f"threads {threading.active_count()}, segments left {len(segments() - before)}")


if __name__ == "__main__":
    main()
