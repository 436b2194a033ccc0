"""Many threads calling the kernels at once (and creating pools at once) get exactly the right answers.

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


def test_pool_creation_races_make_one_pool_per_size():
    sizes = [5, 6, 7]
    start = threading.Barrier(CALLERS)

    def create(index):
        start.wait()
        return _executor._thread_pool(sizes[index % len(sizes)])

    with ThreadPoolExecutor(CALLERS) as callers:
        pools = list(callers.map(create, range(CALLERS)))
    pools_by_size = {}
    for index, pool in enumerate(pools):
        pools_by_size.setdefault(sizes[index % len(sizes)], set()).add(pool)
    assert pools_by_size == {size: {_executor._thread_pools[size]} for size in sizes}
