"""Run shell commands in parallel from Python, the right way.

Threads are the right tool here even with the GIL: each thread spends its time blocked in
``communicate()``, which releases the GIL, while the commands run as separate processes.

What "the right way" means:

* every command's exit code, stdout and stderr (kept apart, per command), duration and timeout status
  come back, in the order the commands were given: a failure is reported, never lost;
* each command runs in its own process group (session), so a timeout or Ctrl-C kills the command *and
  everything it started* (``sh -c 'a | b'``, ``make``'s children...), leaving nothing behind; when the
  command itself exits, what it left running in the background is ended too;
* a command that cannot start (no such program, not executable) is a failed result with return code
  127 or 126 and the reason in its stderr, as a shell reports it; the other commands still run;
* output is decoded as UTF-8 with undecodable bytes replaced, and output still held open by a process
  that left the command's session (``setsid``) is not waited for once the command has exited;
* a string is run by ``/bin/sh -c``: quote every path with ``shlex.quote`` (a path with a space or a
  quote in it is then one word); a list of strings is run directly, with no shell and no quoting needed.
"""

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from ._cpus import usable_cpus
from ._validate import MAX_WORKERS, integer, positive_seconds

__all__ = ["CommandResult", "run_parallel"]


#: A command: a str run by /bin/sh, or a list of str run directly.
Command = str | Sequence[str]


@dataclass(frozen=True)
class CommandResult:
    """One command's outcome, as run_parallel returns it (in the order the commands were given)."""

    command: Command
    #: The exit status; negative: killed by that signal (e.g. -9 after a timeout).
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool

    @property
    def ok(self) -> bool:
        """Whether the command exited with 0 in time."""
        return self.returncode == 0 and not self.timed_out


class _Running:
    """The process groups started and not yet reaped, so an interrupt can kill them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: set[subprocess.Popen[bytes]] = set()
        self.cancelled = False

    def add(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            if self.cancelled:
                _kill_group(process)
            self._processes.add(process)

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._processes.discard(process)

    def kill_all(self) -> None:
        with self._lock:
            self.cancelled = True
            for process in self._processes:
                _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _validate_commands(commands: object) -> list[Command]:
    if isinstance(commands, (str, bytes)):
        raise TypeError("commands must be a list of commands, not a single string (wrap it in a list)")
    try:
        listed = list(commands)  # type: ignore[call-overload]  # any iterable; a TypeError otherwise
    except TypeError:
        raise TypeError(f"commands must be a list of commands, not {type(commands).__name__}") from None
    for index, command in enumerate(listed):
        if isinstance(command, str):
            if not command.strip():
                raise ValueError(f"commands[{index}] is empty")
        elif isinstance(command, (list, tuple)) and command and all(isinstance(arg, str) for arg in command):
            continue
        else:
            raise TypeError(f"commands[{index}] must be a str (run by /bin/sh) or a non-empty list of str, "
                            f"not {command!r}")
    return listed


#: How often a command's thread looks up from reading its output (for a timeout, an exit, Ctrl-C), and
#: how long output is still read after the command exited (from a process that escaped its session).
_POLL_S = 0.05
_DRAIN_S = 0.5


def _run_one(command: Command, timeout: float | None, cwd: str | None, running: _Running) -> CommandResult:
    start = time.perf_counter()
    try:
        process = subprocess.Popen(
            command, shell=isinstance(command, str), cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except (OSError, ValueError) as exc:  # no such program, not executable, a NUL byte in an argument
        code = 127 if isinstance(exc, FileNotFoundError) else 126
        return CommandResult(command, code, "", f"cannot run {command!r}: {exc}\n", time.perf_counter() - start,
                             False)
    running.add(process)
    try:
        stdout, stderr, timed_out = _collect(process, start, timeout, running)
    finally:
        running.discard(process)
        _kill_group(process)  # the command has exited: what it left in the background goes too
    return CommandResult(command, process.returncode, _text(stdout), _text(stderr), time.perf_counter() - start,
                         timed_out)


def _collect(process: subprocess.Popen[bytes], start: float, timeout: float | None,
             running: _Running) -> tuple[bytes, bytes, bool]:
    """Read the command's output until its pipes close, with a bound on the wait: the timeout, Ctrl-C,
    or a short drain once the command itself has exited (a background child may keep the pipes open)."""
    exited_at: float | None = None
    timed_out = False
    while True:
        try:
            stdout, stderr = process.communicate(timeout=_POLL_S)
            return stdout, stderr, timed_out
        except subprocess.TimeoutExpired as pending:
            now = time.perf_counter()
            if exited_at is None and process.poll() is not None:
                exited_at = now
                _kill_group(process)  # its background children in the group close their pipe ends
            over = timeout is not None and not timed_out and now - start > timeout
            if over or running.cancelled:
                timed_out = over
                _kill_group(process)
                process.wait()
                exited_at = exited_at or now
            if exited_at is not None and now - exited_at > _DRAIN_S:
                for pipe in (process.stdout, process.stderr):
                    if pipe is not None:
                        pipe.close()
                return pending.stdout or b"", pending.stderr or b"", timed_out


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def run_parallel(commands: Iterable[Command], jobs: int | None = None, timeout: float | None = None,
                 cwd: str | None = None) -> list[CommandResult]:
    """Run ``commands`` with at most ``jobs`` at a time; a list of :class:`CommandResult`, in order.

    ``jobs`` defaults to the usable CPUs; ``timeout`` (seconds, per command) kills a command's whole
    process group and marks it ``timed_out``. On KeyboardInterrupt (or any error) every running
    command's group is killed before the exception propagates.
    """
    commands = _validate_commands(commands)
    jobs = usable_cpus() if jobs is None else integer("jobs", jobs, minimum=1, maximum=MAX_WORKERS)
    if timeout is not None:
        timeout = positive_seconds("timeout", timeout)
    if cwd is not None and not os.path.isdir(cwd):
        raise ValueError(f"cwd must be an existing directory, got {cwd!r}")
    running = _Running()
    pool = ThreadPoolExecutor(max(1, min(jobs, len(commands))), thread_name_prefix="gilkit-shell")
    futures: list[Future[CommandResult]] = []
    try:
        # Submitting starts worker threads, and a command may already run when Ctrl-C lands in a later
        # submit: that must kill it too.
        futures.extend(pool.submit(_run_one, command, timeout, cwd, running) for command in commands)
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            future.cancel()
        running.kill_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
