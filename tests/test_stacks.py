"""Where the GIL was held and who each wait was behind: the holder's Python stacks the sampler reads, the
blame, the folded stacks, the trace's names, the probe's culprit; and the GIL assertions for other test
suites (gilkit.testing, the pytest plugin's ``gil`` fixture), run in a project of their own.

The workloads are code gilkit did not write (the C JSON encoder, hashlib, zlib, NumPy's sort) beside
pure Python. Shares are of samples, never of durations: nothing here needs an idle CPU.
"""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import threading
import unittest
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from support import FREE_THREADED, gil_enabled, gilkit_cli, needs_native

import gilkit
from gilkit import gil_timeline, testing
from gilkit._implementations import NATIVE_AVAILABLE, native_module
from gilkit._timeline import records
from gilkit._timeline.blame import site_of
from gilkit._timeline.folded import UNKNOWN
from gilkit._timeline.model import ELIDED, Frame
from gilkit.probing import read_gil

HERE = Path(__file__).parent
gil_unreadable = (gil_timeline.gil_unreadable_reason() or native_module("_gilsampler").stacks_unreadable_reason()
                  if NATIVE_AVAILABLE else "no extension")
reads_stacks = pytest.mark.skipif(gil_unreadable is not None, reason=f"no GIL holder's stacks here: {gil_unreadable}")
pytestmark = needs_native

#: A dict whose encoding by the C JSON encoder holds the GIL for several switch intervals.
DATA = {str(i): [i, i * 1.5, "x" * 20, {"a": i}] for i in range(40_000)}
ENCODINGS = 12
MIN_SAMPLES = 2000
#: Each thread's share of its GIL-holding samples that must stand under its own function; the share of
#: the scanner's wait that must be blamed on the encoder's function (the issue's figure).
OWN_SHARE = 0.7


def encoder_beside_scanner():
    """Two threads: "encoder" calls json.dumps on DATA in encode_batch, ENCODINGS times and on until the
    recording has MIN_SAMPLES samples (a busy machine starves the sampler); "scanner" runs a pure-Python
    loop in scan from before the first encoding to after the last."""
    scanning, done = threading.Event(), threading.Event()

    def encode_batch():
        scanning.wait()
        encodings = 0
        while encodings < ENCODINGS or recorder.samples_taken < MIN_SAMPLES:
            json.dumps(DATA)
            encodings += 1
        done.set()

    def scan():
        scanning.set()
        total = 0
        while not done.is_set():
            for i in range(10_000):
                total += i * i % 7

    with gilkit.record_gil(label="json beside pure Python") as recorder:
        threads = [threading.Thread(target=encode_batch, name="encoder"), threading.Thread(target=scan, name="scanner")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return recorder.timeline


@pytest.fixture(scope="module")
def encoded():
    if gil_unreadable is not None:
        pytest.skip(f"no GIL holder's stacks here: {gil_unreadable}")
    return encoder_beside_scanner()


def folded_counts(recorded):
    """{(thread, stack text): count} from the folded lines."""
    counts = {}
    for line in recorded.folded_stacks():
        path, count = line.rsplit(" ", 1)
        thread, _, stack = path.partition(";")
        counts[(thread, stack)] = int(count)
    return counts


@pytest.mark.parametrize(("thread", "own_function"), [("encoder", "encode_batch"), ("scanner", "scan")])
def test_folded_stacks_put_each_threads_holds_under_its_own_function(encoded, thread, own_function):
    counts = folded_counts(encoded)
    held = {stack: count for (name, stack), count in counts.items() if name == thread}
    own = sum(count for stack, count in held.items() if f".{own_function} (" in stack)
    # Of the stacks read: on a busy machine more reads are cut short (recorded as not read), whatever the code.
    read = sum(held.values()) - held.get(UNKNOWN, 0)
    assert read >= sum(held.values()) / 2 and own >= OWN_SHARE * read, held


def test_the_scanners_wait_is_blamed_on_the_encoders_function(encoded):
    waited, behind = encoded.blame("scanner")
    on_encoder = sum(entry.seconds for entry in behind if entry.holder == "encoder" and entry.site is not None
                     and entry.site.entry.function.endswith(".encode_batch"))
    assert waited > 0 and on_encoder >= OWN_SHARE * waited, behind


def test_the_encoder_held_the_gil_in_the_json_encoder(encoded):
    top = encoded.held_in("encoder")[0]
    assert top.site is not None and top.site.entry.function.endswith(".encode_batch")
    assert top.site.innermost.full_name == "json.encoder.JSONEncoder.iterencode"


def test_table_figures_and_trace_say_where(encoded):
    table = encoded.table()
    assert "where each thread held the GIL most" in table
    assert "scanner waited" in table and "behind encoder in encoder_beside_scanner.<locals>.encode_batch" in table
    figures = json.loads(json.dumps(encoded.figures()))
    scanner = next(thread for thread in figures["threads"] if thread["name"] == "scanner")
    assert scanner["waited_behind"][0]["holder"] == "encoder"
    assert figures["stacks"]["read"] and 0 <= figures["stacks"]["unknown_share"] < 1
    events = encoded.chrome_trace()["traceEvents"]
    holds = [event["name"] for event in events if event.get("name", "").startswith("holds the GIL: ")]
    behind = [event["args"]["behind"] for event in events if "behind" in event.get("args", {})]
    assert any("JSONEncoder.iterencode" in name for name in holds)
    assert any(place.startswith("encoder in encoder_beside_scanner.<locals>.encode_batch") for place in behind)


def test_folded_lines_are_in_the_format_flame_graph_tools_read(encoded, tmp_path):
    path = tmp_path / "stacks.folded"
    encoded.save_folded(path)
    lines = path.read_text().splitlines()
    assert lines == encoded.folded_stacks()
    for line in lines:
        stack, count = line.rsplit(" ", 1)
        assert int(count) > 0 and stack.count(";") >= 1
    holder_reads = encoded.stacks.tids == encoded.holders[encoded.stacks.samples]
    assert sum(int(line.rsplit(" ", 1)[1]) for line in lines) == int(holder_reads.sum())


def test_a_recording_without_stacks_says_so():
    if gil_unreadable is not None:
        pytest.skip(f"no GIL holder's stacks here: {gil_unreadable}")
    with gilkit.record_gil(stacks=False) as recorder:
        pass
    recorded = recorder.timeline
    assert recorded.stacks is None and recorded.folded_stacks() == []
    assert "not asked for" in recorded.table()
    with pytest.raises(TypeError, match="stacks"):
        gilkit.record_gil(stacks="yes")


def test_a_recording_cut_short_keeps_its_stacks_in_step_with_its_samples():
    if gil_unreadable is not None:
        pytest.skip(f"no GIL holder's stacks here: {gil_unreadable}")
    with gilkit.record_gil(max_samples=50) as recorder:
        while recorder.samples_taken < 50:
            python_loop()
    recorded = recorder.timeline
    assert recorded.truncated and recorded.stacks is not None
    assert (recorded.stacks.samples < recorded.samples).all()
    assert "where each thread held the GIL most" in recorded.table() and recorded.folded_stacks()


def test_sites_start_past_the_machinery_that_runs_threads():
    def frame(function, module):
        return Frame(function, f"/x/{module.replace('.', '/')}.py", 1, f"{module.replace('.', '/')}.py", module)

    stack = (frame("Thread.run", "threading"), frame("work", "gilkit._thread_runs"), frame("handler", "app"),
             frame("dumps", "json"), frame("JSONEncoder.iterencode", "json.encoder"),
             frame("timed_chunk", "gilkit._executor.threads"))
    site = site_of(stack)
    assert (site.entry.function, site.innermost.function, site.direct) == ("handler", "JSONEncoder.iterencode", False)
    assert str(site) == "handler (app.py:1) > ... > JSONEncoder.iterencode (json/encoder.py:1)"
    assert site_of((ELIDED, frame("f", "app"))).entry.function == "f"
    assert site_of(stack[:2]).entry == stack[1]  # nothing but machinery: its innermost frame
    assert site_of(()) is None


def test_files_are_named_as_imported():
    assert records._importable_as(json.__file__) == ("json/__init__.py", "json")
    assert records._importable_as("<string>") == ("<string>", "")


@reads_stacks
def test_the_sampler_survives_code_made_and_dropped_under_it():
    """tests/stacks_stress.py in a child (a crash fails this test, not the suite): every frame read is one
    the program had, and no thread is left."""
    seconds = os.environ.get("GILKIT_STRESS_SECONDS", "3")
    done = subprocess.run([sys.executable, str(HERE / "stacks_stress.py"), seconds], capture_output=True, text=True,
                          timeout=float(seconds) + 120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["garbage_frames"] == [] and found["threads_left"] == 0, found
    assert found["stacks_read"] > 0 and found["unknown_share"] < 1, found


@reads_stacks
def test_the_probe_names_the_function_that_held_the_gil():
    reading, held_in = read_gil(lambda: json.dumps(DATA), 2, 2)
    assert reading is not None and held_in == "json.encoder.JSONEncoder.iterencode"


@pytest.mark.skipif(gil_enabled(), reason="running threads' stacks are read where no GIL is")
@pytest.mark.skipif(not FREE_THREADED, reason="needs a free-threaded build")
def test_without_a_gil_each_running_threads_stack_is_read():
    def spin_in_python():
        total = 0
        for i in range(2_000_000):
            total += i
        return total

    recorded = gil_timeline.record_threads(spin_in_python, 2, label="spin", min_samples=MIN_SAMPLES)
    assert recorded.stacks is not None, recorded.stacks_note
    workers = {stack: count for (name, stack), count in folded_counts(recorded).items()
               if name.startswith("gilkit-timeline-")}
    own = sum(count for stack, count in workers.items() if ".spin_in_python (" in stack)
    # Of the stacks read (beside busy CPUs more reads are cut short), most are in the function: the
    # threads' start, the calls' loop and their end are the rest (a third of them beside two spinners).
    read = sum(workers.values()) - workers.get(UNKNOWN, 0)
    assert read >= sum(workers.values()) / 2 and own > read / 2, workers


# gilkit.testing, as any test suite calls it


def python_loop():
    total = 0
    for i in range(1_000_000):
        total += i
    return total


@reads_stacks
def test_assert_releases_gil_passes_for_code_that_releases_it():
    recorded = testing.assert_releases_gil(hashlib.sha256, bytes(20 * 2**20))
    assert len(recorded.workers) == 2 and recorded.free_share > 0


@reads_stacks
def test_assert_releases_gil_fails_for_pure_python_and_says_where():
    with pytest.raises(testing.GilAssertionError, match="expected to release the GIL") as failed:
        testing.assert_releases_gil(python_loop)
    assert "held longest in test_stacks.python_loop" in str(failed.value)
    assert "holds GIL" in str(failed.value)  # the timeline's table
    testing.assert_holds_gil(python_loop)


@reads_stacks
def test_assert_holds_gil_fails_for_code_that_releases_it():
    with pytest.raises(testing.GilAssertionError, match="expected to hold the GIL"):
        testing.assert_holds_gil(hashlib.sha256, bytes(20 * 2**20))


@pytest.mark.parametrize(("value", "error"), [("0.5", TypeError), (0, ValueError), (1.5, ValueError)])
def test_assertion_shares_are_checked(value, error):
    with pytest.raises(error, match="min_free_share"):
        testing.assert_releases_gil(python_loop, min_free_share=value)


@pytest.mark.skipif(gil_enabled(), reason="the skip is for builds running without a GIL")
def test_without_a_gil_the_assertions_skip():
    with pytest.raises(unittest.SkipTest, match="no GIL"):
        testing.assert_releases_gil(python_loop)


PROJECT_TESTS = """
    import hashlib, json, zlib
    import numpy as np
    import gilkit

    def loop():
        total = 0
        for i in range(3_000_000):
            total += i

    def test_sha256_releases(gil):
        gil.releases(hashlib.sha256, bytes(50 * 2**20))

    def test_zlib_releases(gil):
        gil.releases(zlib.compress, bytes(50 * 2**20))

    def test_numpy_sort_releases(gil):
        gil.releases(np.sort, np.random.default_rng(0).random(10**7))

    def test_native_kernel_releases(gil):
        gil.releases(gilkit.mandelbrot, 1600, 800, impl="native")

    def test_json_dumps_releases(gil):
        gil.releases(json.dumps, {str(i): [i, 1.5 * i] for i in range(300_000)})

    def test_python_loop_releases(gil):
        gil.releases(loop)

    def test_native_gil_releases(gil):
        gil.releases(gilkit.mandelbrot, 1600, 800, impl="native-gil")

    def test_python_loop_holds(gil):
        gil.holds(loop)
"""


def pytest_in_a_project(folder, name, tests, *options):
    """pytest's output on a test file of a project of its own, with gilkit's plugin (its entry point where
    gilkit is installed; from a source tree, by name), importing the gilkit this suite tests."""
    (folder / name).write_text(textwrap.dedent(tests))
    installed = any(point.value == "pytest_gilkit" for point in entry_points(group="pytest11", name="gilkit"))
    plugin = [] if installed else ["-p", "pytest_gilkit"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugin, *options, str(folder)],
                          capture_output=True, text=True, cwd=folder, timeout=600,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # the gilkit under test
    return done.stdout


@reads_stacks
def test_the_gil_fixture_in_a_project_of_its_own(tmp_path):
    out = pytest_in_a_project(tmp_path, "test_project.py", PROJECT_TESTS, "-rf")
    assert "5 passed" in out and "3 failed" in out, out
    for test, culprit in [("json_dumps_releases", "json.encoder.JSONEncoder.iterencode"),
                          ("python_loop_releases", "test_project.loop"), ("native_gil_releases", "gilkit.kernels.")]:
        assert f"FAILED test_project.py::test_{test} - Failed: " in out, out
        assert f"held longest in {culprit}" in out, out
    assert "was expected to release the GIL, but the GIL was free" in out
    assert "During handling" not in out


@reads_stacks
@pytest.mark.skipif(importlib.util.find_spec("pytest_run_parallel") is None, reason="needs pytest-run-parallel")
def test_under_pytest_run_parallel_the_fixtures_tests_run_on_one_thread_and_say_why(tmp_path):
    out = pytest_in_a_project(tmp_path, "test_parallel.py", """
        import hashlib

        def test_releases(gil):
            gil.releases(hashlib.sha256, bytes(20 * 2**20))

        def test_without_the_fixture():
            pass
    """, "--parallel-threads=2", "-v")
    assert "2 passed" in out, out
    assert "test_releases was not run in parallel: the gil fixture reads the whole process's GIL" in out
    assert "test_without_the_fixture PARALLEL PASSED" in out


def test_the_cli_writes_folded_stacks(tmp_path):
    if gil_unreadable is not None:
        pytest.skip(f"no GIL holder's stacks here: {gil_unreadable}")
    pytest.importorskip("matplotlib")
    path, picture = tmp_path / "out.folded", tmp_path / "flame.png"
    done = gilkit_cli("timeline", "json.dumps(d)", "-s", "import json; d = {str(i): [i] for i in range(100000)}",
                      "--folded", str(path), "--flame", str(picture))
    assert done.returncode == 0, done.stderr
    assert any("JSONEncoder.iterencode" in line for line in path.read_text().splitlines())
    assert f"wrote {path}" in done.stderr and f"wrote {picture}" in done.stderr
    assert picture.read_bytes().startswith(b"\x89PNG")
