"""gilkit.shell.run_parallel and `gilkit shell`: exit codes kept, outputs apart, nothing left behind."""

import os
import shlex
import signal
import subprocess
import sys

import pytest
from procs import is_gone, wait_until
from support import gilkit_cli

from gilkit.shell import run_parallel

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the tests use /bin/sh")


def assert_killed(pid):
    """A SIGKILL is carried out after kill() returns, so the process may take a moment to end; one that
    was never sent it (each of these sleeps a minute or more) outlasts the wait."""
    wait_until(lambda: is_gone(pid), 30, f"process {pid} to end")


def test_exit_codes_and_outputs_come_back_per_command_in_order():
    results = run_parallel(["exit 0", "exit 3", "echo out; echo err >&2; exit 1", "echo fine"], jobs=2)
    assert [r.returncode for r in results] == [0, 3, 1, 0]
    assert [r.ok for r in results] == [True, False, False, True]
    assert (results[2].stdout, results[2].stderr) == ("out\n", "err\n")
    assert results[3].stdout == "fine\n" and results[3].stderr == ""
    assert all(r.duration_s >= 0 and not r.timed_out for r in results)


def test_commands_really_run_at_the_same_time(tmp_path):
    # Opening a FIFO blocks until the other end is opened: these two finish only if they overlap.
    fifo = tmp_path / "rendezvous"
    os.mkfifo(fifo)
    writer, reader = f"echo ping > {shlex.quote(str(fifo))}", f"cat {shlex.quote(str(fifo))}"
    results = run_parallel([writer, reader], jobs=2, timeout=60)
    assert [r.ok for r in results] == [True, True]
    assert results[1].stdout == "ping\n"


def test_paths_with_spaces_and_quotes(tmp_path):
    folder = tmp_path / "a b 'c\" d"
    folder.mkdir()
    (folder / "file one.txt").write_text("hello\n")
    path = str(folder / "file one.txt")
    quoted, as_list = run_parallel([f"cat {shlex.quote(path)}", ["cat", path]])
    assert quoted.stdout == as_list.stdout == "hello\n"


def test_cwd(tmp_path):
    (result,) = run_parallel(["pwd"], cwd=tmp_path)
    assert os.path.samefile(result.stdout.strip(), tmp_path)


def test_a_timeout_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "pid"
    command = f"sleep 60 & echo $! > {shlex.quote(str(pid_file))}; wait"
    (result,) = run_parallel([command], timeout=2)  # time for a shell to start and write, on a busy host
    assert result.timed_out and not result.ok
    assert result.returncode == -signal.SIGKILL
    assert_killed(int(pid_file.read_text()))


@pytest.mark.parametrize(
    "commands, jobs, timeout, error, name",
    [
        ("echo hi", None, None, TypeError, "list of commands"),
        ([""], None, None, ValueError, r"commands\[0\]"),
        ([["echo", 1]], None, None, TypeError, r"commands\[0\]"),
        (["true"], 0, None, ValueError, "jobs"),
        (["true"], 1.5, None, TypeError, "jobs"),
        (["true"], None, -1, ValueError, "timeout"),
        (["true"], None, "1", TypeError, "timeout"),
    ],
)
def test_bad_arguments(commands, jobs, timeout, error, name):
    with pytest.raises(error, match=name):
        run_parallel(commands, jobs=jobs, timeout=timeout)


def gilkit_shell(*args, stdin=None):
    return gilkit_cli("shell", *args, input=stdin, timeout=120)


def test_cli_reports_every_command_and_exits_non_zero_on_failure():
    result = gilkit_shell("-j", "2", "echo one", "exit 4", "echo three")
    assert result.returncode == 1
    assert "[FAILED, exit code 4]" in result.stdout
    assert result.stdout.count("[ok]") == 2
    assert "3 commands: 2 ok, 1 failed, 0 timed out" in result.stderr


def test_cli_reads_commands_from_stdin_and_passes_when_all_pass():
    result = gilkit_shell("--file", "-", stdin="# a comment\necho a\n\necho b\n")
    assert result.returncode == 0, result.stderr
    assert "2 commands: 2 ok" in result.stderr


def test_cli_ctrl_c_kills_the_children(tmp_path):
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    command = f"echo $$ > {shlex.quote(str(fifo))}; exec sleep 60"
    process = subprocess.Popen([sys.executable, "-m", "gilkit", "shell", command],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo) as f:  # blocks until the command has started
        child = int(f.read())
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "killed" in stderr
    assert_killed(child)


def test_ctrl_c_while_later_commands_are_submitted_kills_the_started_ones(tmp_path, monkeypatch):
    """Submitting starts the pool's threads, so Ctrl-C can land in a submit after a command started."""
    from concurrent.futures import ThreadPoolExecutor

    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    submit = ThreadPoolExecutor.submit
    submitted = 0
    started = []

    def submit_then_ctrl_c(pool, *args, **kwargs):
        nonlocal submitted
        future = submit(pool, *args, **kwargs)
        submitted += 1
        if submitted == 2:
            with open(fifo) as f:  # blocks until the first command has started
                started.append(int(f.read()))
            raise KeyboardInterrupt
        return future

    monkeypatch.setattr(ThreadPoolExecutor, "submit", submit_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        run_parallel([f"echo $$ > {shlex.quote(str(fifo))}; exec sleep 60", "exec sleep 60", "exec sleep 60"],
                     jobs=3)
    assert_killed(started[0])


def test_cli_without_commands_is_an_error():
    result = gilkit_shell()
    assert result.returncode == 2 and "no commands" in result.stderr


def test_readme_example_zips_every_sub_folder(tmp_path):
    """The README's classic task: one archive per sub-folder, awkward names included, every failure seen."""
    import zipfile

    names = ["plain", "with space", "it's quoted", 'double"quote']
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "photo.txt").write_text(name)
    (tmp_path / "not-a-folder.txt").write_text("")
    folders = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    commands = [f"{shlex.quote(sys.executable)} -m zipfile -c {shlex.quote(str(f))}.zip {shlex.quote(str(f))}"
                for f in folders]
    results = run_parallel(commands, jobs=4)
    assert [r.ok for r in results] == [True] * len(names), [r.stderr for r in results]
    for folder in folders:
        with zipfile.ZipFile(f"{folder}.zip") as archive:
            assert archive.read(f"{folder.name}/photo.txt").decode() == folder.name


def run_in_thread(fn, *args, **kwargs):
    """fn's result, or an AssertionError if it is still running after a minute (a hang, not a slow call)."""
    import threading

    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(fn(*args, **kwargs)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the call hung"
    return outcome[0]


def test_a_command_that_cannot_start_is_a_failed_result_and_the_others_still_come_back(tmp_path):
    not_executable = tmp_path / "script"
    not_executable.write_text("#!/bin/sh\necho hi\n")
    results = run_parallel([["echo", "before"], ["/no/such/program"], [str(not_executable)], ["echo", "a\0b"],
                            ["echo", "after"]], jobs=3)
    assert [r.returncode for r in results] == [0, 127, 126, 126, 0]
    assert results[0].stdout == "before\n" and results[4].stdout == "after\n"
    assert "/no/such/program" in results[1].stderr and not results[1].ok and not results[1].timed_out


def test_a_background_child_does_not_keep_the_call_waiting():
    (result,) = run_in_thread(run_parallel, ["echo started; sleep 600 &"])
    assert result.ok and result.stdout == "started\n"


def test_the_timeout_holds_when_an_escaped_child_keeps_the_output_open():
    # The setsid child leaves the command's session, so killing the group cannot end it; it prints its pid.
    (result,) = run_in_thread(run_parallel, ["setsid sh -c 'echo $$; exec sleep 600' & sleep 6000"], timeout=1)
    try:
        assert result.timed_out and not result.ok
    finally:
        for line in result.stdout.split():
            os.kill(int(line), signal.SIGKILL)


def test_undecodable_output_is_printed_with_replacement_even_on_an_ascii_terminal(tmp_path):
    commands = tmp_path / "commands.txt"
    commands.write_bytes(b"printf '\\377\\376 caf\\303\\251\\n' # \xff not UTF-8 in the file either\n")
    completed = subprocess.run([sys.executable, "-m", "gilkit", "shell", "--file", str(commands)], capture_output=True,
                               timeout=120, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert completed.returncode == 0, completed.stderr
    assert b"Traceback" not in completed.stderr
    assert b"caf?" in completed.stdout  # the e-acute, replaced for the ASCII terminal


def test_run_parallel_names_its_argument():
    with pytest.raises(TypeError, match="commands must be a list"):
        run_parallel(None)
