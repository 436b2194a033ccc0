"""Many threads calling the kernels at once (and growing the helper team at once) get exactly the right answers.

This is what makes freethreading_compatible=True true: the kernels keep no module state, and the
executor's shared state (its pools, each call's chunk counter) is guarded by locks.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from reference import same_result
from support import SMALL_PROBLEMS

import gilkit
from gilkit._executor import threads
from gilkit._executor.job import Chunks

CALLERS = 8


def new_flag():
    return memoryview(np.zeros(1, dtype=np.intc))


def work(impl, workers):
    """Every kernel's small problem, in registry order."""
    return [problem.call(impl=impl, workers=workers) for problem in SMALL_PROBLEMS.values()]


def same_results(a, b):
    return all(map(same_result, a, b))


def test_concurrent_callers_share_pools_and_agree(impl):
    expected = work(impl, 1)
    start = threading.Barrier(CALLERS)

    def caller(index):
        start.wait()
        return work(impl, 1 + index % 3)

    with ThreadPoolExecutor(CALLERS) as callers:
        results = list(callers.map(caller, range(CALLERS)))
    assert all(same_results(result, expected) for result in results)


def helper_threads():
    return [t for t in threading.enumerate() if t.name.startswith("gilkit-helper-")]


def test_racing_callers_grow_the_helper_team_only_to_the_largest_call():
    before = threads.TEAM.threads
    start = threading.Barrier(CALLERS)

    def caller(index):
        start.wait()
        # 8 chunks; 1 to 6 helpers wanted
        return gilkit.mandelbrot(16, 64, max_iter=5, impl=gilkit.ACTIVE_IMPLEMENTATION, workers=2 + index % 6)

    with ThreadPoolExecutor(CALLERS) as callers:
        list(callers.map(caller, range(CALLERS)))
    assert threads.TEAM.threads == max(before, 6)
    assert len(helper_threads()) == threads.TEAM.threads


def test_the_caller_and_a_helper_run_chunks_at_the_same_time():
    # Each chunk waits for the other at a barrier: only two threads at once can pass it.
    meet = threading.Barrier(2, timeout=60)
    ran_on = []

    def chunk(start, stop, cancel):
        ran_on.append(threading.get_ident())
        meet.wait()
        return [start]

    queue = threads.ChunkQueue(chunk, (), Chunks(0, 2, 1), new_flag(), fold=list.__add__, initial=[])
    assert threads.TEAM.run(queue, helpers=1) == [0, 1]  # folded in chunk order
    assert threading.get_ident() in ran_on and len(set(ran_on)) == 2


def test_an_error_in_a_chunk_stops_the_call_and_reaches_the_caller():
    ran = []

    def chunk(start, stop, cancel):
        ran.append(start)
        if start == 3:
            raise ZeroDivisionError("chunk 3")
        return start

    cancel = new_flag()
    queue = threads.ChunkQueue(chunk, (), Chunks(0, 1000, 1), cancel)
    try:
        threads.TEAM.run(queue, helpers=2)
    except ZeroDivisionError as exc:
        assert str(exc) == "chunk 3"
    else:
        raise AssertionError("the chunk's error was lost")
    assert len(ran) < 1000  # the others stopped after their current chunk
    assert cancel[0] == 1  # and the chunks already running were told to stop
