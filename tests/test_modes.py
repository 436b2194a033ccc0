"""mode="threads" | "processes" | "openmp": identical results, spawn and forkserver, dead workers, no leaks."""

import os
import signal
import threading

import numpy as np
import pytest
import reference
from procs import HAVE_PROC, cpu_seconds, wait_until
from reference import same_bits, same_result
from support import SMALL_PROBLEMS, needs_native, shared_memory_segments

import gilkit
from gilkit._executor import openmp, processes

#: Shuts down, kills or replaces the pools that every call shares: other threads' calls would see it
#: (pytest-run-parallel runs these on one thread).
ACTS_ON_THE_SHARED_POOLS = pytest.mark.thread_unsafe(reason="acts on the process pools every call shares")

VALUES = np.random.default_rng(8).normal(size=(1 << 16) + 5)


@pytest.fixture(scope="module", autouse=True)
def no_leaked_shared_memory():
    before = shared_memory_segments()
    yield
    assert shared_memory_segments() - before == set(), "mode='processes' left shared-memory segments behind"


@pytest.mark.parametrize("kernel", gilkit.KERNELS)
def test_processes_give_the_same_result_as_threads(kernel, impl):
    call = SMALL_PROBLEMS[kernel].call
    assert same_result(call(impl=impl, workers=2, mode="processes"), call(impl=impl, workers=1))


@needs_native
@pytest.mark.skipif(not gilkit.OPENMP_ENABLED, reason="this build has no OpenMP")
@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("kernel", gilkit.KERNELS)
def test_openmp_gives_the_same_result_as_threads(kernel, workers):
    call = SMALL_PROBLEMS[kernel].call
    assert same_result(call(impl="native", workers=workers, mode="openmp"), call(impl="native", workers=1))


@pytest.fixture(params=["spawn", "forkserver", "fork"])
def start_method(request):
    import multiprocessing

    if request.param not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{request.param} is not available on this platform")
    gilkit.set_start_method(request.param)
    yield request.param
    gilkit.set_start_method(None)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
def test_every_start_method_works(start_method):
    assert gilkit.get_start_method() == start_method
    image = gilkit.mandelbrot(20, 17, max_iter=30, impl="python", workers=2, mode="processes")
    assert np.array_equal(image, gilkit.mandelbrot(20, 17, max_iter=30, impl="python"))


def test_unknown_start_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        gilkit.set_start_method("teleport")


def current_pool():
    return processes.POOLS.current(gilkit.get_start_method())


def test_one_pool_serves_every_call_and_grows_to_the_largest():
    gilkit.count_primes(1000, impl="python", workers=2, mode="processes")
    pool = current_pool()
    gilkit.count_primes(1000, impl="python", workers=1, mode="processes")
    assert current_pool() is pool  # reused, also by a smaller call
    rows = 4 * gilkit.kernels.MANDELBROT_ROWS_PER_CHUNK  # 4 chunks: each call may use all its workers
    for workers in (1, 2, 3, 4, 3, 2, 1):
        gilkit.mandelbrot(3, rows, max_iter=2, impl="python", workers=workers, mode="processes")
    assert current_pool()._max_workers == 4 and len(current_pool()._processes) <= 4
    gilkit.count_primes(1000, impl="python", workers=4, mode="processes")  # 1 chunk: never more workers
    assert current_pool()._max_workers == 4


@ACTS_ON_THE_SHARED_POOLS
def test_shutdown_ends_every_helper_thread_and_worker_process():
    import threading

    n = 3 * gilkit.kernels.PRIMES_PER_SEGMENT  # 16 chunks: 3 threads at work
    primes = gilkit.count_primes(n, impl=gilkit.ACTIVE_IMPLEMENTATION, workers=3)
    gilkit.count_primes(1000, impl="python", workers=2, mode="processes")
    workers = list(current_pool()._processes.values())
    gilkit.shutdown()
    for process in workers:
        process.join(timeout=30)
        assert not process.is_alive()
    helpers = [t for t in threading.enumerate() if t.name.startswith("gilkit-helper-")]
    for helper in helpers:
        helper.join(timeout=30)
        assert not helper.is_alive()
    assert current_pool() is None
    # Everything starts again on demand.
    assert primes == reference.count_primes(n)
    assert gilkit.count_primes(n, impl=gilkit.ACTIVE_IMPLEMENTATION, workers=3) == primes
    assert gilkit.count_primes(1000, impl="python", workers=2, mode="processes") == 168


@ACTS_ON_THE_SHARED_POOLS
def test_changing_the_start_method_lets_a_running_call_finish():
    import threading

    gilkit.set_start_method(None)
    outcome = []
    caller = threading.Thread(target=lambda: outcome.append(
        gilkit.count_primes(3_000_000, impl="python", workers=2, mode="processes")))
    caller.start()
    wait_until(lambda: current_pool() is not None and current_pool()._pending_work_items, 60, "the call to start")
    gilkit.set_start_method("spawn")
    caller.join(timeout=300)
    gilkit.set_start_method(None)
    assert outcome == [216816]


@ACTS_ON_THE_SHARED_POOLS
def test_a_worker_killed_while_idle_costs_the_next_call_nothing():
    gilkit.count_primes(1000, impl="python", workers=2, mode="processes")
    pool = current_pool()
    victim, *survivors = pool._processes.values()
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(timeout=30)
    assert gilkit.count_primes(1000, impl="python", workers=2, mode="processes") == 168  # a new pool ran it
    assert current_pool() is not pool
    for survivor in survivors:  # the old pool's other workers are ended, or exit would hang on 3.11
        survivor.join(timeout=30)
        assert not survivor.is_alive()


@ACTS_ON_THE_SHARED_POOLS
@pytest.mark.skipif(not HAVE_PROC, reason="reads CPU times from /proc (Linux)")
def test_a_worker_killed_during_a_call_fails_that_call_clearly():
    gilkit.count_primes(1000, impl="python", workers=2, mode="processes")
    victim = next(iter(current_pool()._processes.values()))
    outcome = []

    def call():
        try:
            gilkit.count_primes(10**12, impl="python", workers=2, mode="processes")
        except RuntimeError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    start = cpu_seconds(victim.pid)
    wait_until(lambda: cpu_seconds(victim.pid) > start + 0.2, 120, "the worker to compute")
    os.kill(victim.pid, signal.SIGKILL)
    caller.join(timeout=120)
    assert not caller.is_alive() and len(outcome) == 1
    assert "worker process died" in str(outcome[0])
    assert gilkit.count_primes(1000, impl="python", workers=2, mode="processes") == 168


@needs_native
def test_an_openmp_less_build_refuses_mode_openmp_clearly(monkeypatch):
    monkeypatch.setattr(openmp, "OPENMP_ENABLED", False)
    with pytest.raises(RuntimeError, match="compiled without OpenMP"):
        gilkit.sum_squares(VALUES, impl="native", workers=2, mode="openmp")


def test_a_shared_array_goes_to_the_workers_without_a_copy(monkeypatch):
    values = gilkit.shared_array(VALUES.shape)
    values[...] = VALUES
    created = []
    real = processes.shared_memory.SharedMemory

    def counting(*args, **kwargs):
        created.append(kwargs.get("create", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(processes.shared_memory, "SharedMemory", counting)
    impl = gilkit.ACTIVE_IMPLEMENTATION
    assert same_bits(gilkit.sum_squares(values, impl=impl, workers=2, mode="processes"),
                     gilkit.sum_squares(VALUES, impl=impl))
    assert True not in created  # no temporary segment: the workers attached to the array's own
    gilkit.sum_squares(VALUES, impl=impl, workers=2, mode="processes")
    assert True in created  # while an ordinary array is copied into one


def test_a_view_of_a_shared_array_works_and_the_segment_goes_with_the_last_view():
    import gc

    before = shared_memory_segments()
    image = gilkit.shared_array((40, 30))
    (segment,) = shared_memory_segments() - before
    image[...] = np.random.default_rng(9).normal(size=(40, 30))
    rows = image[5:25]  # a C-contiguous view inside the segment
    del image
    gc.collect()
    assert segment in shared_memory_segments()  # the view still needs it
    impl = gilkit.ACTIVE_IMPLEMENTATION
    assert np.array_equal(gilkit.box_blur(rows, 2, impl=impl, workers=2, mode="processes"),
                          gilkit.box_blur(np.array(rows), 2, impl=impl))
    del rows
    gc.collect()
    assert segment not in shared_memory_segments()


@pytest.mark.parametrize("shape, dtype, error, word", [
    ("3", np.float64, TypeError, "shape"), ((2, -1), np.float64, ValueError, "shape"),
    ((2.0,), np.float64, TypeError, "shape"), (True, np.float64, TypeError, "shape"),
    (3, object, TypeError, "dtype"), (3, "no-such-type", TypeError, "dtype"),
])
def test_shared_array_refuses_bad_arguments(shape, dtype, error, word):
    with pytest.raises(error, match=word):
        gilkit.shared_array(shape, dtype)


def test_shared_array_is_zeroed_and_shaped():
    array = gilkit.shared_array((3, 4), np.int32)
    assert array.shape == (3, 4) and array.dtype == np.int32 and array.flags.c_contiguous and not array.any()


@ACTS_ON_THE_SHARED_POOLS
def test_a_killed_forkserver_costs_the_next_call_nothing():
    import multiprocessing
    import multiprocessing.forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("forkserver is not available on this platform")
    gilkit.set_start_method("forkserver")
    try:
        gilkit.count_primes(1000, impl="python", workers=2, mode="processes")
        pool = current_pool()
        os.kill(multiprocessing.forkserver._forkserver._forkserver_pid, signal.SIGKILL)
        # The pool hears of its workers through the fork server: wait until it can tell they are gone.
        wait_until(lambda: not all(p.is_alive() for p in pool._processes.values()), 30, "the pool to notice")
        assert gilkit.count_primes(1000, impl="python", workers=2, mode="processes") == 168
    finally:
        gilkit.set_start_method(None)
