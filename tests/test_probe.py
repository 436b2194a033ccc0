"""gilkit.probe, `gilkit probe` and `%gil`: the right verdict for code whose behaviour is known, with
idle CPUs and with every CPU kept busy by other processes."""

import json
import subprocess
import sys
import time

import pytest
from support import CALIBRATED_CALL_SECONDS, FREE_THREADED, gil_enabled, gilkit_cli, needs_native

import gilkit
from gilkit._steady import INSIDE, chunk_max_iter


def pure_python_loop():
    return sum(i * i for i in range(200_000))


def compiled_chunk(impl):
    """One compiled call of a single chunk of rows inside the set, of CALIBRATED_CALL_SECONDS (calibrated at
    the first call, the probe's warm-up, so that collecting the tests needs no compiled kernel)."""
    rows = gilkit.kernels.MANDELBROT_ROWS_PER_CHUNK
    return lambda: gilkit.mandelbrot(1000, rows, max_iter=chunk_max_iter(1000, CALIBRATED_CALL_SECONDS), impl=impl,
                                     **INSIDE)


KNOWN = [
    pytest.param(lambda: time.sleep(0.005), "releases", id="time.sleep"),
    pytest.param(compiled_chunk("native"), "releases", id="native", marks=needs_native),
    pytest.param(pure_python_loop, "hands over", id="python-loop"),
    pytest.param(compiled_chunk("native-gil"), "holds", id="native-gil", marks=needs_native),
]


def expected(finding):
    return finding if gil_enabled() else "no GIL"


def what_the_gil_does(report):
    """The verdict's GIL part: whether the code also scaled depends on what else the machine runs."""
    return "releases" if report.verdict.finding == "releases, does not scale" else report.verdict.finding


@pytest.mark.parametrize("fn, finding", KNOWN)
def test_the_verdict_of_known_code(fn, finding):
    report = gilkit.probe(fn, workers=(1, 2), rounds=2)
    assert what_the_gil_does(report) == expected(finding), report


@pytest.fixture
def every_cpu_busy():
    """One spinning process per usable CPU, started here and ended here."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(gilkit.usable_cpus())]
    yield
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


@needs_native
@pytest.mark.parametrize("impl, finding", [("native", "releases"), ("native-gil", "holds")])
def test_busy_cpus_do_not_change_the_verdict(every_cpu_busy, impl, finding):
    report = gilkit.probe(compiled_chunk(impl), workers=(1, 2), rounds=2)
    assert what_the_gil_does(report) == expected(finding), report


def test_the_report_holds_every_figure():
    report = gilkit.probe(time.sleep, 0.002, workers=[2, 1, 2], rounds=1)
    assert [s.workers for s in report.scaling] == [1, 2]
    assert report.calls >= 1 and report.call_best_s <= report.call_median_s
    assert report.scaling[0].speedup_best == pytest.approx(1.0)
    data = report.as_dict()
    json.dumps(data, allow_nan=False)  # NaN becomes null
    assert data["verdict"]["finding"] == report.verdict.finding
    assert "verdict:" in report.table() and report.label == "sleep"


def test_the_json_keeps_a_label_that_spells_nan():
    report = gilkit.probe(float, "NaN", workers=[1], rounds=1, label="float('NaN')")
    data = report.as_dict()
    assert data["label"] == "float('NaN')"
    assert json.loads(json.dumps(data, allow_nan=False))["label"] == "float('NaN')"


@pytest.mark.parametrize("call, error, name", [
    (lambda: gilkit.probe(1), TypeError, "fn"),
    (lambda: gilkit.probe(time.sleep, 0, workers=[0]), ValueError, "workers"),
    (lambda: gilkit.probe(time.sleep, 0, workers="2"), TypeError, "workers"),
    (lambda: gilkit.probe(time.sleep, 0, workers=3), TypeError, "workers"),
    (lambda: gilkit.probe(time.sleep, 0, rounds=0), ValueError, "rounds"),
])
def test_bad_arguments(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_an_exception_of_the_code_propagates():
    with pytest.raises(ZeroDivisionError):
        gilkit.probe(lambda: 1 / 0)


def gilkit_probe(*args):
    return gilkit_cli("probe", *args, timeout=120)


def test_the_command_prints_json_with_a_verdict():
    child = gilkit_probe("-s", "import time", "time.sleep(0.002)", "--rounds", "1", "--json")
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    assert report["label"] == "time.sleep(0.002)"
    assert report["verdict"]["finding"] in {expected("releases"), "releases, does not scale"}


@pytest.mark.parametrize("args, says", [
    (["1 +"], "does not compile"),
    (["-s", "import nosuchmodule_gilkit", "1"], "setup raised ModuleNotFoundError"),
    (["np.sort(a)"], "statement raised NameError"),
])
def test_a_bad_statement_is_one_line_and_exit_2(args, says):
    child = gilkit_probe(*args)
    assert child.returncode == 2 and child.stdout == ""
    assert child.stderr.count("\n") == 1 and says in child.stderr and "Traceback" not in child.stderr, child.stderr


def test_the_line_magic_probes_in_the_users_namespace(ipython):
    ipython.run_cell("import time as clock")
    report = ipython.run_line_magic("gil", "-r 1 -w 1,2 -o clock.sleep(0.002)")
    assert isinstance(report, gilkit.ProbeReport)
    assert report.label == "clock.sleep(0.002)" and what_the_gil_does(report) == expected("releases")


def test_the_cell_magic_runs_the_setup_line_first(ipython, capsys):
    report = ipython.run_cell_magic("gil", "-r 1 -o pause = 0.002", "import time\ntime.sleep(pause)")
    assert what_the_gil_does(report) == expected("releases")
    assert "verdict:" in capsys.readouterr().out


@pytest.mark.skipif(FREE_THREADED, reason="a pure-Python loop hands the GIL over only where there is one")
def test_the_magic_says_a_python_loop_hands_the_gil_over(ipython):
    ipython.run_cell("def loop():\n    return sum(i * i for i in range(200_000))")
    assert ipython.run_line_magic("gil", "-r 2 -o loop()").verdict.finding == "hands over"


@pytest.mark.parametrize("line, says", [("-w x 1", "workers takes a whole number"), ("-w 0 1", "workers must be >= 1"),
                                        ("-r 0 1", "rounds must be >= 1"), ("-r x 1", "-r takes a whole number"),
                                        ("-o", "needs a statement"), ("1 +", "does not compile"),
                                        ("1 / 0", "raised ZeroDivisionError")])
def test_the_magic_refuses_a_bad_line_as_a_usage_error_naming_it(ipython, line, says):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match=f"%gil: .*{says}"):
        ipython.run_line_magic("gil", line)
