"""The GIL timeline (gilkit.timeline, gilkit.record_gil, `gilkit timeline`, %%giltimeline): the GIL as the
interpreter itself records it, checked against ground truth from gilkit's own kernels.

Nothing here needs an idle CPU: a thread that holds the GIL still holds it while it waits for a CPU, and
the checks compare who held the GIL when (against the executor's own chunk spans), never durations.
"""

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from procs import threads_listed, wait_until
from support import FREE_THREADED, gil_enabled, gilkit_cli, needs_native

import gilkit
from gilkit import gil_timeline
from gilkit._durations import Durations
from gilkit._implementations import NATIVE_AVAILABLE, native_module
from gilkit._statements import StatementError
from gilkit._steady import INSIDE, chunk_max_iter
from gilkit._thread_runs import run_on_threads
from gilkit._timeline import records
from gilkit.gil_timeline import Stretch, ThreadLane
from gilkit.kernels import MANDELBROT_ROWS_PER_CHUNK

WIDTH = 1000
#: A sample's GIL read happens within 20 us of its time stamp (ext/gil_sampler.c takes it again otherwise).
READ_MARGIN_S = 50e-6

gil_unreadable = native_module("_gilsampler").gil_unreadable_reason() if NATIVE_AVAILABLE else "no extension"
reads_the_gil = pytest.mark.skipif(gil_unreadable is not None, reason=f"the GIL cannot be read: {gil_unreadable}")
pytestmark = needs_native


def python_loop(n=300_000):
    total = 0
    for i in range(n):
        total += i
    return total


def taking_turns(recorder):
    """A function that runs pure Python alone, one caller at a time, until the recording has taken 20
    more samples: its thread holds the GIL at every one of them, and each turn after the first begins
    with a GIL switch, however rarely a busy CPU lets the sampler (at a low priority) look."""
    one_at_a_time = threading.Lock()

    def turn():
        with one_at_a_time:
            until = recorder.samples_taken + 20
            while recorder.samples_taken < until:
                python_loop(1000)

    return turn


def sampled_python_threads(count):
    """A recording of ``count`` threads (gilkit-timeline-0, ...) taking turns in pure Python."""
    with gilkit.record_gil() as recorder:
        turn = taking_turns(recorder)
        for thread in run_on_threads(turn, count, 1, name="gilkit-timeline", ready=recorder.wait_until_watched).threads:
            recorder.name_thread(thread.native_id, thread.name)
    return recorder.timeline


def recorded_chunks(impl, chunks=4):
    """The timeline of ``chunks`` chunks of rows inside the set on 2 workers, each about 50 ms in the
    compiled loop (calibrated before the recording starts)."""
    max_iter = chunk_max_iter(WIDTH, 0.05)
    with gilkit.record_gil() as recorder:
        gilkit.mandelbrot(WIDTH, chunks * MANDELBROT_ROWS_PER_CHUNK, max_iter=max_iter, impl=impl, workers=2, **INSIDE)
    return recorder.timeline


def holders_inside(timeline, chunk):
    """The GIL's holder at every sample taken inside the chunk."""
    inside = (timeline.times > chunk.start_s + READ_MARGIN_S) & (timeline.times < chunk.stop_s - READ_MARGIN_S)
    return timeline.holders[inside]


@reads_the_gil
def test_every_sample_inside_a_gil_holding_chunk_names_that_chunks_thread():
    timeline = recorded_chunks("native-gil")
    assert len(timeline.chunks) == 4, timeline.chunks
    inside = [holders_inside(timeline, chunk) for chunk in timeline.chunks]
    for chunk, holders in zip(timeline.chunks, inside, strict=True):
        assert (holders == chunk.tid).all(), (chunk, np.unique(holders, return_counts=True))
    assert sum(map(len, inside)) >= 8, "too few samples inside the chunks to judge"


@reads_the_gil
def test_nogil_chunks_leave_their_thread_without_the_gil_for_most_of_the_chunk():
    timeline = recorded_chunks("native")
    inside = [holders_inside(timeline, chunk) == chunk.tid for chunk in timeline.chunks]
    held = np.concatenate(inside)
    assert len(held) >= 8, "too few samples inside the chunks to judge"
    # The thread holds the GIL only at the edges of a chunk (and while a busy CPU delays it there).
    assert held.mean() < 0.25, [h.mean() for h in inside]
    assert timeline.verdict().finding == "releases", timeline


@reads_the_gil
def test_pure_python_threads_take_turns_about_every_switch_interval():
    timeline = gilkit.timeline(gilkit.mandelbrot, 60, 48, max_iter=1000, impl="python", threads=2, **INSIDE)
    workers = [timeline.lane(f"gilkit-timeline-{i}") for i in range(2)]
    for lane in workers:
        holds = [stretch for stretch in lane.stretches if stretch.state == "holding"]
        chunks = [chunk for chunk in timeline.chunks if chunk.tid == lane.tid]
        # A thread that kept the GIL through its chunks would hold it once a chunk; taking turns splits each
        # chunk into many holds (14 or more a chunk on an idle CPU here, 5 or more beside two spinners). Not
        # the share of time held: a thread the OS preempts while it holds the GIL goes on "holding" without
        # progress, so beside busy CPUs one worker's share of the time fell as low as 10%.
        assert chunks and len(holds) >= 2 * len(chunks), timeline
    # The interpreter forces a switch once a waiter has waited a switch interval; a busy CPU only delays it.
    most = 2 * timeline.duration_s / timeline.switch_interval_s + 20
    assert 10 <= timeline.switches <= most, timeline
    assert timeline.verdict().finding == "hands over", timeline


@reads_the_gil
def test_a_sleeping_thread_never_holds_the_gil_while_python_runs_beside_it():
    slept = []

    def sleeper():
        start = time.perf_counter()
        time.sleep(0.4)
        slept.append((start, time.perf_counter()))

    thread = threading.Thread(target=sleeper, name="sleeper")
    with gilkit.record_gil() as recorder:
        thread.start()
        while thread.is_alive():
            python_loop(10_000)
        thread.join()
    timeline = recorder.timeline
    # Inside the sleep, well clear of its ends (where the thread holds the GIL to call and to return,
    # for as long as a busy CPU makes it wait there): never the holder, while the main thread is.
    (start, stop), = slept
    asleep = (timeline.times > start - timeline.origin + 0.05) & (timeline.times < stop - timeline.origin - 0.05)
    assert asleep.sum() >= 10, "too few samples inside the sleep to judge"
    assert not (timeline.holders[asleep] == thread.native_id).any(), timeline
    assert (timeline.holders[asleep] == threading.get_native_id()).mean() > 0.5, timeline
    assert timeline.lane("sleeper").share("blocked") > 0.5, timeline


@reads_the_gil
def test_threads_gilkit_did_not_start_get_lanes_with_their_names():
    both_started = threading.Barrier(2, timeout=60)  # so that the pool starts its second thread
    with gilkit.record_gil() as recorder:
        turn = taking_turns(recorder)

        def pooled():
            both_started.wait()
            turn()

        turn()  # the main thread first
        with ThreadPoolExecutor(2, thread_name_prefix="pool") as pool:
            for future in [pool.submit(pooled) for _ in range(2)]:
                future.result()
    timeline = recorder.timeline
    pool_lanes = [lane for lane in timeline.lanes if lane.name.startswith("pool")]
    assert len(pool_lanes) == 2, [lane.name for lane in timeline.lanes]
    for lane in [*pool_lanes, timeline.lane("MainThread")]:
        assert lane.share("holding") > 0 and lane.longest_hold_s > 0, timeline


@pytest.mark.skipif(gil_enabled(), reason="the GIL is enabled: there is one to read")
def test_without_a_gil_the_timeline_says_so_and_shows_threads_running_at_once():
    timeline = gilkit.timeline(gilkit.mandelbrot, 60, 24, max_iter=1000, impl="python", threads=2, **INSIDE)
    assert not timeline.gil_read and timeline.switches is None
    assert "without a GIL" in (timeline.note or ""), timeline.note
    assert timeline.verdict().finding == "no GIL"
    for lane in timeline.lanes:
        assert lane.share("holding") == lane.share("waiting_gil") == 0.0, timeline
    workers = [timeline.lane(f"gilkit-timeline-{i}") for i in range(2)]
    assert all(lane.share("running") + lane.share("waiting_cpu") > 0.5 for lane in workers), timeline


def test_the_trace_opens_as_chrome_trace_events(tmp_path):
    timeline = sampled_python_threads(2)
    path = tmp_path / "gil.json"
    timeline.save_trace(path)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert {event["ph"] for event in events} <= {"M", "X", "i"}
    named = {event["tid"]: event["args"]["name"] for event in events
             if event["name"] == "thread_name" and event["pid"] == os.getpid()}
    assert named == {lane.tid: lane.name for lane in timeline.lanes}
    slices = [event for event in events if event["ph"] == "X" and event["pid"] == os.getpid()]
    assert sum(len(lane.stretches) for lane in timeline.lanes) == len(slices)
    assert all(event["dur"] >= 0 and event["ts"] >= 0 for event in slices)
    switches = [event for event in events if event["name"] == "GIL switch"]
    if timeline.gil_read:
        assert 1 <= len(switches) <= timeline.switches
    assert trace["otherData"]["threads"][0]["name"] == timeline.lanes[0].name


def test_the_picture_is_a_png_with_a_lane_per_thread(tmp_path):
    pytest.importorskip("matplotlib")
    timeline = sampled_python_threads(2)
    path = tmp_path / "gil.png"
    timeline.save_png(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figure = timeline.plot()
    assert [label.get_text() for label in figure.axes[0].get_yticklabels()] == [
        lane.name for lane in reversed(timeline.lanes) if not lane.blocked_throughout]


def test_the_picture_counts_threads_blocked_throughout_instead_of_drawing_them():
    pytest.importorskip("matplotlib")
    timeline = sampled_python_threads(2)
    idle = ThreadLane(tid=1, name="idle-waiter", stretches=(Stretch(0.0, timeline.duration_s, "blocked"),),
                      seen_s=timeline.duration_s, gil_waits=Durations(), longest_hold_s=0.0)
    with_idle = dataclasses.replace(timeline, lanes=(*timeline.lanes, idle))
    axes = with_idle.plot().axes[0]
    drawn = [label.get_text() for label in axes.get_yticklabels()]
    assert "idle-waiter" not in drawn and "gilkit-timeline-0" in drawn
    hidden = sum(lane.blocked_throughout for lane in with_idle.lanes)
    assert f"{hidden} thread" in axes.get_title() and "blocked throughout, not drawn" in axes.get_title()
    assert "idle-waiter" in with_idle.table()  # the table keeps every thread


def test_the_figures_are_json_with_every_threads_shares():
    timeline = sampled_python_threads(3)
    figures = json.loads(json.dumps(timeline.figures()))
    assert len([t for t in figures["threads"] if t["name"].startswith("gilkit-timeline-")]) == 3
    for thread in figures["threads"]:
        assert sum(thread["shares"].values()) == pytest.approx(1.0)
    assert figures["samples"] == timeline.samples >= 2
    assert figures["verdict"]["finding"] == timeline.verdict().finding


def test_a_recording_can_wait_until_the_sampler_watches_new_threads():
    release = threading.Event()
    worker = threading.Thread(target=lambda: (release.wait(), python_loop(1000)), name="watched-worker")
    with gilkit.record_gil() as recorder:
        worker.start()
        assert recorder.wait_until_watched([worker])
        release.set()
        worker.join()
    assert recorder.timeline.lane("watched-worker").seen_s > 0


def test_waiting_for_a_thread_the_sampler_never_sees_gives_up():
    gone = threading.Thread(target=python_loop, args=(10,))
    gone.start()
    gone.join()
    # Only once the kernel has removed it is it certain never to be watched.
    wait_until(lambda: str(gone.native_id) not in threads_listed(), 60, "the kernel to remove the ended thread")
    with gilkit.record_gil() as recorder:
        assert not recorder.wait_until_watched([gone], timeout=0.05)
    with pytest.raises(RuntimeError, match="inside the `with record_gil"):
        gilkit.record_gil().wait_until_watched([gone])


def test_errors_of_the_timed_function_propagate_and_leave_no_recording_behind():
    tasks_before = threads_listed()
    with pytest.raises(ZeroDivisionError):
        gilkit.timeline(lambda: 1 / 0, threads=2)
    with gilkit.record_gil() as recorder:
        python_loop(1000)
    assert recorder.timeline.samples >= 1
    started = threads_listed() - tasks_before - {str(t.native_id) for t in threading.enumerate()}
    wait_until(lambda: not threads_listed() & started, 60, "the threads the timeline started to end")


def test_one_recording_at_a_time_and_each_recorder_once():
    recorder = gilkit.record_gil()
    with pytest.raises(RuntimeError, match="once the `with record_gil"):
        _ = recorder.timeline
    with recorder, pytest.raises(RuntimeError, match="already recording"), gilkit.record_gil():
        pass
    with pytest.raises(RuntimeError, match="only once"), recorder:
        pass


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"threads": 0}, ValueError, "threads must be >= 1"),
    ({"threads": 2.5}, TypeError, "threads"),
    ({"interval": 0}, ValueError, "interval must be > 0"),
    ({"interval": 1e-6}, ValueError, "interval must be >= 2e-05"),
    ({"interval": 1.0}, ValueError, "interval must be <= 0.1"),
    ({"interval": "fast"}, TypeError, "interval"),
], ids=["no-threads", "fractional-threads", "zero-interval", "tiny-interval", "huge-interval", "text-interval"])
def test_bad_arguments_are_refused_before_anything_runs(kwargs, error, message):
    ran = []
    with pytest.raises(error, match=message):
        gilkit.timeline(ran.append, 1, **kwargs)
    assert not ran


def test_only_callables_are_timed():
    with pytest.raises(TypeError, match="fn must be callable"):
        gilkit.timeline("print(1)")


def test_the_command_draws_writes_a_trace_and_prints_json(tmp_path):
    pytest.importorskip("matplotlib")
    png, trace = tmp_path / "gil.png", tmp_path / "gil.json"
    result = gilkit_cli("timeline", "-s", "import gilkit", "gilkit.mandelbrot(60, 24, impl='python')",
                        "--threads", "2", "-o", str(png), "--trace", str(trace), "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["label"] == "gilkit.mandelbrot(60, 24, impl='python')"
    assert len(figures["threads"]) >= 2
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert json.loads(trace.read_text())["traceEvents"]


@pytest.mark.parametrize("args", [
    ["1 +"],
    ["1 / 0"],
    ["-s", "import nothing_by_this_name", "1"],
    ["--threads", "0", "1"],
    ["--interval", "5", "1"],
    ["-o", "/no/such/folder/gil.png", "1"],
    ["--trace", "/", "1"],
], ids=["does-not-compile", "raises", "setup-raises", "no-threads", "interval-too-short", "no-folder", "a-folder"])
def test_bad_input_is_one_line_and_exit_2(args):
    result = gilkit_cli("timeline", *args)
    assert result.returncode == 2, result
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_the_cell_magic_records_the_cell_in_the_notebooks_namespace(ipython, capsys):
    pytest.importorskip("matplotlib")
    ipython.run_cell("import time")
    found = ipython.run_cell_magic("giltimeline", "-o pause = 0.05", "time.sleep(pause)\nslept = True")
    assert isinstance(found, gilkit.GilTimeline)
    assert ipython.user_ns["slept"] is True
    assert found.lane("MainThread").share("blocked") > 0.5
    assert "verdict:" in capsys.readouterr().out


def test_the_cell_magic_runs_the_cell_on_threads_and_refuses_bad_options(ipython):
    pytest.importorskip("matplotlib")
    ipython.run_cell("def loop():\n    return sum(i * i for i in range(1_000_000))")  # tens of ms a thread
    found = ipython.run_cell_magic("giltimeline", "-t 2 -o", "loop()")
    assert {"gilkit-timeline-0", "gilkit-timeline-1"} <= {lane.name for lane in found.lanes}
    from IPython.core.error import UsageError

    for line in ("-t 0", "-t two", "-i 1"):
        with pytest.raises(UsageError, match="%%giltimeline"):
            ipython.run_cell_magic("giltimeline", line, "loop()")


def test_where_no_timeline_can_be_recorded_the_cell_magic_says_so_in_one_line(ipython, capsys):
    ipython.run_cell("ran = False")
    with gilkit.record_gil():  # one recording at a time: the magic's cannot start meanwhile
        assert gil_timeline.recording_unavailable_reason() == "a GIL timeline is already recording in this process"
        assert ipython.run_cell_magic("giltimeline", "", "ran = True") is None
    assert capsys.readouterr().out.strip() == ("%%giltimeline: no GIL timeline here (a GIL timeline is already "
                                               "recording in this process); the cell did not run")
    assert ipython.user_ns["ran"] is False and gil_timeline.recording_unavailable_reason() is None


@pytest.mark.skipif(not FREE_THREADED and gil_unreadable is None, reason="this build's GIL is read")
def test_where_the_gil_is_not_read_the_reason_is_given():
    timeline = gilkit.timeline(python_loop, 10_000, threads=1)
    assert not timeline.gil_read and timeline.note
    assert "GIL not read" in timeline.table()


@reads_the_gil
def test_a_gil_layout_that_does_not_match_is_reported_and_the_heartbeat_judges_instead(monkeypatch):
    sampler = native_module("_gilsampler")
    # Read as held by another thread than the one holding it: what a build for another CPython reads.
    mismatch = sampler.gil_unreadable_reason(threading.get_native_id() + 1)
    assert mismatch is not None and "built for another CPython" in mismatch
    assert sampler.gil_unreadable_reason() is None  # the real check passes, and leaves the GIL readable
    monkeypatch.setattr(sampler, "gil_unreadable_reason", lambda native_id=None: mismatch)
    assert gil_timeline.gil_unreadable_reason() == mismatch  # the bench and the probe read the heartbeat
    found = gilkit.timeline(python_loop, 100_000, threads=2)
    assert not found.gil_read and found.note == mismatch and found.heartbeat is not None
    assert found.reading() is None and "heartbeat" in found.verdict().evidence  # the heartbeat's word


def test_the_sampler_reports_its_states_by_name_and_its_records_by_size():
    sampler = native_module("_gilsampler")
    assert records.state_names(sampler) == {code: None if name == "ended" else name
                                            for name, code in sampler.STATE_CODES.items()}

    class Mislaid:
        SAMPLE_SIZE, CHANGE_SIZE, STATE_CODES = sampler.SAMPLE_SIZE + 8, sampler.CHANGE_SIZE, sampler.STATE_CODES
        STACK_SAMPLE_SIZE, STACK_NODE_SIZE = sampler.STACK_SAMPLE_SIZE, sampler.STACK_NODE_SIZE

    with pytest.raises(records.LayoutError, match="rebuild gilkit"):
        records.state_names(Mislaid)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded, use of fork:DeprecationWarning")
def test_a_child_forked_while_a_recording_runs_can_record_its_own():
    with gilkit.record_gil():
        child = os.fork()
        if child == 0:  # the sampler thread stayed in the parent: so did its recording
            status = 1
            try:
                with gilkit.record_gil() as recorder:
                    python_loop(1000)
                status = 0 if recorder.timeline.samples >= 1 else 2
            finally:
                os._exit(status)
        _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_gilkits_own_failure_is_not_reported_as_the_statements():
    with gilkit.record_gil(), pytest.raises(RuntimeError, match="already recording"):
        gil_timeline.timeline_statement("pass")
    with pytest.raises(StatementError, match="the statement raised ZeroDivisionError"):
        gil_timeline.timeline_statement("1 / 0")


def test_drawing_leaves_the_users_pyplot_figures_and_backend_alone(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    import matplotlib

    backend = matplotlib.get_backend()
    mine = plt.figure()
    try:
        timeline = sampled_python_threads(2)
        timeline.save_png(tmp_path / "gil.png")
        timeline.plot()
        assert plt.get_fignums() == [mine.number] and matplotlib.get_backend() == backend
    finally:
        plt.close(mine)
    package = Path(gilkit.__file__).parent
    assert not [path for path in package.rglob("*.py") if "matplotlib.use(" in path.read_text()]


SHORT_OF_DESCRIPTORS = """
import json, os, resource, threading, time
import gilkit
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
go = threading.Event()
with gilkit.record_gil() as recorder:
    threads = [threading.Thread(target=go.wait, name=f"waiter-{i}") for i in range(80)]
    for thread in threads:
        thread.start()
    until, deadline = recorder.samples_taken + 20, time.monotonic() + 60
    while recorder.samples_taken < until and time.monotonic() < deadline:  # it has looked for them
        go.wait(0.001)
    own = [open(os.devnull) for _ in range(16)]  # the program's own files still open
    go.set()
    for thread in threads:
        thread.join()
for f in own:
    f.close()
found = recorder.timeline
print(json.dumps([found.unwatched_threads, found.note, found.figures()["unwatched_threads"], found.table()]))
"""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="the sampler watches threads through /proc")
def test_threads_the_sampler_cannot_watch_for_want_of_descriptors_are_counted_and_said():
    result = subprocess.run([sys.executable, "-c", SHORT_OF_DESCRIPTORS], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    unwatched, note, in_figures, table = json.loads(result.stdout)
    assert unwatched > 0 and in_figures == unwatched
    assert f"{unwatched} thread" in note and "could not be watched when found: out of file descriptors" in note
    assert note in table


@reads_the_gil
def test_a_timelines_reading_is_of_the_threads_that_ran_the_code():
    found = gilkit.timeline(python_loop, 100_000, threads=2)
    names = {found.lane(tid).name for tid in found.workers}
    assert names == {"gilkit-timeline-0", "gilkit-timeline-1"}
    assert len(found.reading().held_shares) == 2  # not the main thread, which only waited for them
    assert len(found.reading([lane.tid for lane in found.lanes]).held_shares) == len(found.lanes)
