"""Many threads calling the kernels at once (and growing the helper team at once) get exactly the right answers.

This is what makes freethreading_compatible=True true: the kernels keep no module state, and the
executor's shared state (its pools, each call's chunk counter) is guarded by locks.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from reference import same_bits

import gilkit
from gilkit import _executor

CALLERS = 8


def new_flag():
    return memoryview(np.zeros(1, dtype=np.intc))
VALUES = np.random.default_rng(11).normal(size=200_003)
IMAGE = np.random.default_rng(12).normal(size=(40, 30))


def work(impl, workers):
    return (
        gilkit.mandelbrot(40, 33, max_iter=60, impl=impl, workers=workers),
        gilkit.count_primes(300_000, impl=impl, workers=workers),
        gilkit.estimate_pi(300_000, seed=5, impl=impl, workers=workers),
        gilkit.box_blur(IMAGE, 2, impl=impl, workers=workers),
        gilkit.sum_squares(VALUES, impl=impl, workers=workers),
    )


def same_results(a, b):
    return (np.array_equal(a[0], b[0]) and a[1] == b[1] and same_bits(a[2], b[2])
            and same_bits(a[3], b[3]) and same_bits(a[4], b[4]))


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
    before = _executor._TEAM.threads
    start = threading.Barrier(CALLERS)

    def caller(index):
        start.wait()
        return gilkit.mandelbrot(16, 64, max_iter=5, workers=2 + index % 6)  # 8 chunks; 1 to 6 helpers wanted

    with ThreadPoolExecutor(CALLERS) as callers:
        list(callers.map(caller, range(CALLERS)))
    assert _executor._TEAM.threads == max(before, 6)
    assert len(helper_threads()) == _executor._TEAM.threads


def test_the_caller_and_a_helper_run_chunks_at_the_same_time():
    # Each chunk waits for the other at a barrier: only two threads at once can pass it.
    meet = threading.Barrier(2, timeout=60)
    ran_on = []

    def chunk(start, stop, cancel):
        ran_on.append(threading.get_ident())
        meet.wait()
        return [start]

    queue = _executor._ChunkQueue(chunk, (), _executor.Chunks(2, 1), new_flag(), fold=list.__add__, initial=[])
    assert _executor._TEAM.run(queue, helpers=1) == [0, 1]  # folded in chunk order
    assert threading.get_ident() in ran_on and len(set(ran_on)) == 2


def test_an_error_in_a_chunk_stops_the_call_and_reaches_the_caller():
    ran = []

    def chunk(start, stop, cancel):
        ran.append(start)
        if start == 3:
            raise ZeroDivisionError("chunk 3")
        return start

    cancel = new_flag()
    queue = _executor._ChunkQueue(chunk, (), _executor.Chunks(1000, 1), cancel)
    try:
        _executor._TEAM.run(queue, helpers=2)
    except ZeroDivisionError as exc:
        assert str(exc) == "chunk 3"
    else:
        raise AssertionError("the chunk's error was lost")
    assert len(ran) < 1000  # the others stopped after their current chunk
    assert cancel[0] == 1  # and the chunks already running were told to stop
