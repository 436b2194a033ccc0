"""The stack sampler under stress: 8 threads make and drop code as fast as they can (fresh exec'ed functions,
deep recursion, generators, exceptions, threads that start and end) while the sampler reads the GIL
holder's stack at its fastest interval. Run alone, it prints one JSON line of what it found:

    python tests/stacks_stress.py SECONDS

tests/test_stacks.py runs it for a few seconds in a child process (a crash fails the test, not the suite);
the 60-second run's output is kept in benchmarks/results/.
"""

import itertools
import json
import os
import re
import sys
import threading

from procs import poll, threads_listed

from gilkit.gil_timeline import MIN_INTERVAL, record_gil

THREADS = 8
#: The file and function names the fresh code is given, which every frame read from it must carry.
FRESH_FILE = "<stress>"
FRESH_NAME = re.compile(r"fresh_\d+(\.<locals>\.(inner|<genexpr>))?|<module>")
#: The code object CPython 3.12 and 3.13 run after a class's __init__ (_Py_InitCleanup): named
#: "__init__", in a file "__init__", from line 0. A real frame, though no file holds it.
INIT_CLEANUP = ("__init__", "__init__", 0)


def fresh_code(serial: int) -> None:
    source = (f"def fresh_{serial}(n):\n"
              "    def inner(k):\n"
              "        return k if k < 1 else inner(k - 1)\n"
              f"    return inner(n) + sum(i for i in range(n))\n"
              f"fresh_{serial}({serial % 97})\n")
    exec(compile(source, FRESH_FILE, "exec"), {})


def recurse(depth: int) -> int:
    return 0 if depth == 0 else 1 + recurse(depth - 1)


def generators(n: int) -> int:
    def numbers(limit):
        yield from (i * i for i in range(limit))

    return sum(numbers(n))


def exceptions(depth: int) -> None:
    try:
        if depth == 0:
            raise ValueError("deep")
        exceptions(depth - 1)
    except ValueError:
        if depth % 7 == 0:
            raise


def churn(stop: threading.Event, serials: "itertools.count[int]") -> None:
    while not stop.is_set():
        fresh_code(next(serials))
        recurse(300)
        generators(500)
        try:
            exceptions(40)
        except ValueError:
            pass
        child = threading.Thread(target=fresh_code, args=(next(serials),))
        child.start()
        child.join()


def garbage(frames) -> list[str]:
    """Frames that no code of this process could have had."""
    bad = []
    for frame in frames:
        if frame.function == "..." or (frame.function, frame.file, frame.line) == INIT_CLEANUP:
            continue
        readable = frame.function.isprintable() and frame.file.isprintable() and frame.line >= 0
        real_file = os.path.exists(frame.file) or frame.file.startswith("<")
        fresh_ok = frame.file != FRESH_FILE or FRESH_NAME.fullmatch(frame.function)
        if not (readable and real_file and fresh_ok):
            bad.append(f"{frame.function!r} {frame.file!r}:{frame.line}")
    return bad


def main(seconds: float) -> dict[str, object]:
    tasks_before = threads_listed()
    stop, serials = threading.Event(), itertools.count()
    with record_gil(MIN_INTERVAL, label="stress") as recorder:
        workers = [threading.Thread(target=churn, args=(stop, serials)) for _ in range(THREADS)]
        for worker in workers:
            worker.start()
        stop.wait(seconds)
        stop.set()
        for worker in workers:
            worker.join()
    started = threads_listed() - tasks_before  # the workers and the sampler's native thread
    poll(lambda: not threads_listed() & started, 60)
    recorded = recorder.timeline
    stacks = recorded.stacks
    assert stacks is not None, recorded.stacks_note
    return {
        "python": sys.version.split()[0],
        "seconds": round(recorded.duration_s, 1),
        "samples": recorded.samples,
        "stacks_read": int(len(stacks.nodes)),
        "unknown_share": round(float((stacks.nodes < 0).mean()), 4) if len(stacks.nodes) else None,
        "distinct_frames": len(stacks.frames),
        "functions_made": next(serials),
        "garbage_frames": garbage(stacks.frames)[:10],
        "threads_left": len(threads_listed() & started),
        "tables_full": stacks.full,
    }


if __name__ == "__main__":
    print(json.dumps(main(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0)))
