"""`gilkit info` and `gilkit bench`: exit codes, JSON fields, bad options (run as real processes)."""

import io
import json
import re
import statistics
import subprocess
import sys

import pytest
from support import gilkit_cli

import gilkit
from gilkit.gil_timeline import gil_unreadable_reason
from gilkit.report import _COLOURS, FORMAT_VERSION, Report, ReportError, cell_verdict, format_matrix, wants_colour

RESULT_FIELDS = {"kernel", "impl", "mode", "workers", "size", "repeats", "times_s", "median_s", "throughput",
                 "speedup", "speedup_low", "speedup_high", "speedup_best", "efficiency", "vs_python",
                 "heartbeat_median_ms", "heartbeat_max_ms", "gil_reading", "others_busy", "flag"}
META_FIELDS = {"python", "build", "gil_enabled", "cpus_usable", "cpu_count", "switch_interval", "gilkit_version",
               "numpy_version", "cpu_model", "date"}


def test_info_reports_the_gil_and_the_usable_cpus():
    result = gilkit_cli("info")
    assert result.returncode == 0, result.stderr
    facts = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert facts["gil_enabled"] in {"True", "False"}
    assert int(facts["cpus_usable"]) == gilkit.usable_cpus()
    assert facts["openmp_enabled"] == str(gilkit.OPENMP_ENABLED)
    assert facts["implementations"] == str(list(gilkit.available_impls()))


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "out.json"
    result = gilkit_cli("bench", "--quick", "--kernels", "count_primes,sum_squares", "--impls", "python",
                        "--workers", "1,2", "--budget", "0.01", "--save", str(path))
    assert result.returncode == 0, result.stderr
    return result, json.loads(path.read_text())


def test_every_notice_goes_to_stderr_and_json_alone_prints_the_report(quick_report, tmp_path):
    result, _ = quick_report
    assert "wrote" not in result.stdout and "wrote" in result.stderr
    printed = gilkit_cli("bench", "--quick", "--kernels", "sum_squares", "--impls", "python", "--workers", "1,2",
                         "--budget", "0.01", "--json")
    assert printed.returncode == 0, printed.stderr
    assert Report.from_json(json.loads(printed.stdout)).kernels() == ["sum_squares"]  # nothing but the JSON


def test_the_old_spelling_json_path_still_writes_the_file_and_says_it_is_deprecated(tmp_path):
    path = tmp_path / "old.json"
    result = gilkit_cli("bench", "--quick", "--kernels", "sum_squares", "--impls", "python", "--workers", "1,2",
                        "--budget", "0.01", "--json", str(path))
    assert result.returncode == 0, result.stderr
    assert "--json PATH is deprecated: use --save PATH" in result.stderr
    assert Report.from_json(json.loads(path.read_text())).kernels() == ["sum_squares"]


def test_bench_json_has_every_documented_field(quick_report):
    _, report = quick_report
    assert META_FIELDS <= set(report["meta"])
    assert len(report["results"]) == 4
    for r in report["results"]:
        assert RESULT_FIELDS <= set(r)
        assert r["repeats"] == len(r["times_s"]) >= 6  # the fewest rounds whose median has a 95% interval
        assert r["median_s"] > 0 and r["throughput"] > 0
    one, two = (r for r in report["results"] if r["kernel"] == "count_primes")
    assert one["speedup"] == 1.0 and one["efficiency"] == 1.0
    assert two["speedup"] == pytest.approx(statistics.median(a / b for a, b in zip(one["times_s"], two["times_s"],
                                                                                    strict=True)))
    assert two["speedup_low"] <= two["speedup"] <= two["speedup_high"]
    assert one["gil_reading"] is None  # read on the most workers only
    if gilkit.NATIVE_AVAILABLE and gil_unreadable_reason() is None:
        assert len(two["gil_reading"]["held_shares"]) == 2 and two["gil_reading"]["free_share"] < 0.5  # python
    assert two["efficiency"] == pytest.approx(two["speedup"] / 2)
    assert two["speedup_best"] == pytest.approx(min(one["times_s"]) / min(two["times_s"]))


def test_bench_prints_the_compact_matrix_in_80_columns(quick_report):
    result, report = quick_report
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Speedup on 2 workers over 1 (threads mode")
    two = {r["kernel"]: r for r in report["results"] if r["workers"] == 2}
    for kernel in ("count_primes", "sum_squares"):
        row = next(line for line in lines if line.startswith(kernel))
        mark = "!" if two[kernel]["flag"] else "~" if Report.from_json(report).index()[
            (kernel, "python", "threads", 2)].wide else ""
        assert row.split()[1] == f"{mark}{two[kernel]['speedup']:.2f}x"
        reading = lines[lines.index(row) + 1].split()
        assert reading[0] in ("held", "heartbeat")  # the pure-Python twin holds the GIL
    assert max(map(len, lines)) <= 80
    assert "\x1b[" not in result.stdout  # not a terminal: no colour
    assert "throughput/s" not in result.stdout


def test_bench_detail_adds_every_figure_and_the_findings():
    result = gilkit_cli("bench", "--quick", "--detail", "--kernels", "sum_squares", "--impls", "python",
                        "--workers", "1,2", "--budget", "0.01")
    assert result.returncode == 0, result.stderr
    assert "throughput/s" in result.stdout and "heartbeat ms" in result.stdout
    assert "Findings on" in result.stdout and "on 2 workers" in result.stdout
    assert "Speedup on 2 workers over 1" in result.stdout


def test_the_matrix_is_coloured_by_verdict_only_when_asked(quick_report):
    report = Report.from_json(quick_report[1])
    plain, coloured = format_matrix(report), format_matrix(report, colour=True)
    assert "\x1b[" not in plain
    assert re.sub(r"\x1b\[\d+m", "", coloured) == plain
    for cell in report.cells:
        if cell.workers == 2:
            found = cell_verdict(cell, report.gil_enabled)
            assert found is not None and f"\x1b[{_COLOURS[found.finding]}m" in coloured


@pytest.mark.parametrize("environment, colour", [
    ({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False),
], ids=["terminal", "NO_COLOR", "dumb-terminal"])
def test_colour_only_on_a_terminal_that_wants_it(monkeypatch, environment, colour):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    terminal, pipe = io.StringIO(), io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    assert wants_colour(terminal) is colour
    assert wants_colour(pipe) is False


def test_the_report_is_written_with_its_version_and_read_back_unchanged(quick_report):
    _, data = quick_report
    assert data["version"] == FORMAT_VERSION
    assert Report.from_json(data).to_json() == data


def test_a_version_1_report_is_read_without_the_fields_it_did_not_have():
    old = {"meta": {"build": "x"}, "results": [{key: value for key, value in GOOD_CELL.items()
                                                 if key not in ("heartbeat_control_median_ms", "gil_median_ms")}]}
    cell = Report.from_json(old).cells[0]
    assert cell.heartbeat_median_ms == 0.1 and cell.gil_median_ms != cell.gil_median_ms  # NaN: unknown then
    with pytest.raises(ReportError, match="has no .heartbeat_control_median_ms"):  # version 2 must have it
        Report.from_json({**old, "version": 2})


def test_a_version_2_report_is_read_without_the_interval_the_reading_the_load_and_the_flag():
    cell = Report.from_json({"version": 2, "meta": {"build": "x"}, "results": [GOOD_CELL]}).cells[0]
    assert (cell.gil_reading, cell.others_busy, cell.speedup_low, cell.speedup_high, cell.flag) == (None,) * 5
    with pytest.raises(ReportError, match="has no .gil_reading"):  # version 3 must have it
        Report.from_json({"version": 3, "meta": {"build": "x"}, "results": [GOOD_CELL]})


@pytest.mark.parametrize("reading", [[], {"free_share": 0.5}, {"free_share": "x", "held_shares": [], "wait": {}}],
                         ids=["not-an-object", "no-wait", "a-word-for-a-share"])
def test_a_bad_gil_reading_is_refused_by_name(reading):
    cell = {**GOOD_CELL, "gil_reading": reading, "others_busy": None, "speedup_low": None, "speedup_high": None,
            "flag": None}
    with pytest.raises(ReportError, match=r"results\[0\] has no valid 'gil_reading'"):
        Report.from_json({"version": 3, "meta": {"build": "x"}, "results": [cell]})


def test_compare_prints_two_runs_side_by_side(quick_report, tmp_path):
    _, report = quick_report
    (tmp_path / "a.json").write_text(json.dumps(report))
    (tmp_path / "b.json").write_text(json.dumps(report))
    result = gilkit_cli("bench", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert result.returncode == 0, result.stderr
    assert "B/A throughput" in result.stdout
    assert result.stdout.count("1.00") >= 4  # a run against itself: every throughput ratio is 1


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["bench", "--kernels", "fft"], "unknown kernel 'fft'"),
        (["bench", "--impls", "cuda"], "unknown impl 'cuda'"),
        (["bench", "--workers", "0"], "workers must be >= 1"),
        (["bench", "--workers", "two"], "workers takes a whole number"),
        (["bench", "--modes", "gpu"], "unknown mode 'gpu'"),
        (["bench", "--budget", "-1"], "argument --budget: value must be > 0 seconds"),
        (["bench", "--compare", "/nonexistent/a.json", "/nonexistent/b.json"], "cannot read"),
        (["bench", "--compare", "/dev/null", "/dev/null"], "cannot read"),
        (["bench", "--frobnicate"], "unrecognized arguments"),
        (["teleport"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(args, complaint):
    result = gilkit_cli(*args)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_plot_is_drawn_or_refused_clearly(tmp_path):
    path = tmp_path / "speedup.png"
    result = gilkit_cli("bench", "--quick", "--kernels", "sum_squares", "--impls", "python", "--workers", "1,2",
                        "--budget", "0.01", "--plot", str(path))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert result.returncode == 2 and "pip install 'gilkit[plot]'" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_speedup_picture_draws_the_panels_whose_bars_were_measured():
    pytest.importorskip("matplotlib")
    from gilkit.plot import SPEEDUP_PANELS, plot_speedups
    from gilkit.report import Cell

    def cell(mode, workers, speedup):
        return Cell("mandelbrot", "python", mode, workers, 10, "rows", 10, [1.0], speedup=speedup,
                    speedup_low=speedup - 0.05, speedup_high=speedup + 0.05)

    report = Report({"build": "CPython (GIL)", "cpus_usable": 2},
                    [cell("threads", 1, 1.0), cell("threads", 2, 0.93), cell("processes", 1, 1.0),
                     cell("processes", 2, 1.78)])
    (ax,) = plot_speedups(report).axes
    assert ax.get_title(loc="left") == SPEEDUP_PANELS[1][0]
    assert [text.get_text() for text in ax.texts if text.get_text()[0].isdigit()] == ["0.93", "1.78"]
    assert [label.get_text() for label in ax.get_legend().get_texts()] == ["python", "python (processes)"]


GOOD_CELL = {"kernel": "k", "impl": "python", "mode": "threads", "workers": 1, "size": 10, "unit": "items",
             "items": 10, "times_s": [1.0, 1.1], "heartbeat_median_ms": 0.1, "heartbeat_max_ms": 0.2,
             "heartbeat_control_median_ms": 0.1, "gil_median_ms": 0.0, "speedup": 1.0, "speedup_best": 1.0,
             "efficiency": 1.0, "vs_python": 1.0}


def bad_records(tmp_path):
    """Saved runs that --compare must refuse with one line: a record without keys, no items (so no
    throughput), a version this gilkit does not know."""
    good = {"version": 2, "meta": {"build": "x"}, "results": [GOOD_CELL]}
    missing = {"version": 2, "meta": {"build": "x"}, "results": [{"kernel": "k"}]}
    zero = {**good, "results": [{**GOOD_CELL, "items": 0}]}
    future = {**good, "version": 99}
    paths = {}
    for name, report in {"good": good, "missing": missing, "zero": zero, "future": future}.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(report))
    return paths


def test_a_good_record_is_read_and_compared_with_itself(tmp_path):
    paths = bad_records(tmp_path)
    result = gilkit_cli("bench", "--compare", str(paths["good"]), str(paths["good"]))
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["k", "python", "threads", "1", "1.0500", "1.0500", "1.00", "1.00", "1.00"] in rows


BAD_COMMAND_LINES = {
    "openmp-with-python-only": ["bench", "--modes", "openmp", "--impls", "python"],
    "workers-huge": ["bench", "--workers", "100000", "--modes", "openmp"],
    "workers-overflow": ["bench", "--workers", str(2**31)],
    "workers-word": ["bench", "--workers", "two"],
    "budget-infinite": ["bench", "--budget", "inf"],
    "save-into-missing-folder": ["bench", "--quick", "--save", "/no/such/folder/out.json"],
    "save-onto-a-folder": ["bench", "--quick", "--save", "/tmp"],
    "old-json-spelling-into-missing-folder": ["bench", "--quick", "--json", "/no/such/folder/out.json"],
    "old-and-new-spelling": ["bench", "--quick", "--json", "/tmp/a.json", "--save", "/tmp/b.json"],
    "compare-record-without-keys": ["bench", "--compare", "{good}", "{missing}"],
    "compare-zero-throughput": ["bench", "--compare", "{zero}", "{good}"],
    "compare-unknown-version": ["bench", "--compare", "{good}", "{future}"],
    "demo-io-threads": ["demo", "io", "--threads", "100000"],
    "demo-locks-updates": ["demo", "locks", "--updates", "0"],
    "demo-responsive-duration": ["demo", "responsive", "--duration", "-1"],
    "shell-timeout-huge": ["shell", "--timeout", "1e10", "true"],
    "shell-empty-command": ["shell", ""],
    "shell-jobs-zero": ["shell", "-j", "0", "true"],
}


@pytest.mark.parametrize("case", BAD_COMMAND_LINES)
def test_a_bad_command_line_gets_one_line_and_exit_code_2(case, tmp_path):
    paths = bad_records(tmp_path)
    args = [arg.format(**paths) for arg in BAD_COMMAND_LINES[case]]
    result = gilkit_cli(*args)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""  # refused before any work


def test_version():
    result = gilkit_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"gilkit {gilkit.__version__}"


def test_a_closed_pipe_ends_the_command_quietly():
    reader = subprocess.Popen([sys.executable, "-m", "gilkit", "info"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    reader.stdout.close()  # like `gilkit info | head -0`: nobody reads
    _, stderr = reader.communicate(timeout=120)
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr, stderr


def test_the_command_line_imports_no_demo_until_one_runs():
    probe = ("import sys, gilkit.cli; gilkit.cli.build_parser(); "
             "print(sorted(m for m in sys.modules if m.startswith('gilkit.demos.')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['gilkit.demos._catalog', 'gilkit.demos._options', 'gilkit.demos._result']"
