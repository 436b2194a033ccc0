"""mode="interpreters": the pure-Python twins in isolated subinterpreters, a GIL each. Identical results, the
native impl refused with its reason (and pinned: the day an isolated interpreter can load gilkit's compiled
kernels, a test here fails), a failing chunk, and nothing left behind (interpreters, threads, segments)."""

import threading

import numpy as np
import pytest
from reference import same_result
from support import SMALL_PROBLEMS, gilkit_cli, needs_native, shared_memory_segments

import gilkit
from gilkit import gil_timeline
from gilkit._executor import interpreters
from gilkit._executor.job import Chunks, Job

pytestmark = pytest.mark.thread_unsafe(reason="shuts down the worker interpreters every call shares")
needs_interpreters = pytest.mark.skipif(interpreters.UNAVAILABLE_REASON is not None,
                                        reason=str(interpreters.UNAVAILABLE_REASON))


def interpreter_count():
    return len(interpreters._MODULE.list_all())


def worker_threads():
    return [thread for thread in threading.enumerate() if thread.name.startswith("gilkit-interpreter-")]


@pytest.fixture(scope="module", autouse=True)
def nothing_left_behind():
    before = shared_memory_segments()
    yield
    gilkit.shutdown()
    assert shared_memory_segments() - before == set(), "mode='interpreters' left shared-memory segments behind"
    assert not worker_threads()
    if interpreters.UNAVAILABLE_REASON is None:
        assert interpreter_count() == 1


@needs_interpreters
@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("kernel", gilkit.KERNELS)
def test_interpreters_give_the_same_result_as_threads(kernel, workers):
    call = SMALL_PROBLEMS[kernel].call
    assert same_result(call(impl="python", workers=workers, mode="interpreters"), call(impl="python", workers=1))


@needs_interpreters
def test_each_worker_is_an_interpreter_of_its_own_and_shutdown_ends_them():
    gilkit.count_primes(10**5, impl="python", workers=3, mode="interpreters")
    assert interpreter_count() >= 4 and len(worker_threads()) >= 3
    gilkit.shutdown()
    assert interpreter_count() == 1 and not worker_threads()
    assert gilkit.count_primes(10**5, impl="python", workers=2, mode="interpreters") == 9592  # they start again


@needs_interpreters
def test_the_timeline_sees_each_interpreters_own_gil_held_at_once():
    if gil_timeline.gil_unreadable_reason() is not None:
        pytest.skip(f"the GIL is not read here: {gil_timeline.gil_unreadable_reason()}")
    gilkit.count_primes(10**5, impl="python", workers=2, mode="interpreters")  # the pool started
    with gilkit.record_gil() as recorder:
        gilkit.count_primes(4 * 10**6, impl="python", workers=2, mode="interpreters")
    recorded = recorder.timeline
    assert recorded.other_gils.max() == 2, "both workers' own GILs should be held at some sample"
    workers = [lane for lane in recorded.lanes if lane.name.startswith("gilkit-interpreter-")]
    assert len(workers) == 2 and all(lane.share("holding") > 0 for lane in workers)
    assert "subinterpreters' own GILs held at once" in recorded.table()


@needs_interpreters
@pytest.mark.parametrize("impl", ["native", "native-gil"])
def test_the_compiled_kernels_are_refused_with_the_reason(impl):
    with pytest.raises(ValueError, match=r"mode='interpreters' runs only impl='python' \(.*cython#8006"):
        gilkit.count_primes(1000, impl=impl, mode="interpreters")


@needs_interpreters
def test_an_isolated_interpreter_still_refuses_numpy():
    """Why the compiled kernels cannot run there (gilkit imports NumPy, and so do its kernels' modules). The day
    this import works, this test fails: then see whether mode='interpreters' can run impl='native'."""
    interpreter = interpreters._create()
    try:
        with pytest.raises(interpreters.InterpreterFailed, match="subinterpreters|does not support"):
            interpreters._exec(interpreter, "import numpy")
    finally:
        interpreters._MODULE.destroy(interpreter)


@needs_interpreters
def test_a_failing_chunk_raises_its_error_and_the_next_call_works():
    broken = Job("primes", "no_such_chunk_function", Chunks(0, 10, 5))
    with pytest.raises(RuntimeError, match="no_such_chunk_function failed in a worker interpreter:(.|\n)*Error"):
        interpreters.run_interpreters(broken, 2)
    assert gilkit.count_primes(10**5, impl="python", workers=2, mode="interpreters") == 9592


@needs_interpreters
def test_arrays_cross_in_shared_memory_and_outputs_come_back():
    values = np.random.default_rng(3).normal(size=100_003)
    assert gilkit.sum_squares(values, impl="python", workers=2, mode="interpreters") == \
        gilkit.sum_squares(values, impl="python")
    image = np.random.default_rng(4).random((37, 23))
    assert np.array_equal(gilkit.box_blur(image, 2, impl="python", workers=2, mode="interpreters"),
                          gilkit.box_blur(image, 2, impl="python"))


@pytest.mark.skipif(interpreters.UNAVAILABLE_REASON is None, reason="this CPython has own-GIL interpreters")
def test_without_own_gil_interpreters_the_error_names_the_minimum_version():
    with pytest.raises(RuntimeError, match=r"needs CPython 3\.12 or later"):
        gilkit.count_primes(1000, impl="python", mode="interpreters")


@needs_native  # it asks for impl native, which the CLI refuses first where there is none
def test_the_cli_refuses_what_cannot_run():
    done = gilkit_cli("bench", "--quick", "--kernels", "count_primes", "--impls", "native", "--modes", "interpreters")
    wanted = "mode interpreters runs only impl python" if interpreters.UNAVAILABLE_REASON is None else "3.12 or later"
    assert done.returncode == 2 and wanted in done.stderr and "Traceback" not in done.stderr, done.stderr
