"""Processes as /proc sees them (Linux): CPU time and membership, to wait for real work without sleeps."""

import os
import time
from pathlib import Path

HAVE_PROC = Path("/proc/self/stat").exists()


def _fields(stat):
    """A /proc/<pid>/stat file's fields after the command name: state ppid pgrp session ... utime (11) stime (12)."""
    return stat.read_text().rsplit(")", 1)[1].split()


def _stats():
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            yield int(stat.parent.name), _fields(stat)
        except OSError:
            continue  # the process ended while we looked


def is_gone(pid):
    """Exited: no such process, or a zombie waiting to be reaped."""
    try:
        return _fields(Path(f"/proc/{pid}/stat"))[0] == "Z"
    except FileNotFoundError:
        return True


def cpu_seconds(pid=None, session=None):
    """User + system CPU time of process ``pid``, or of every process in ``session``."""
    ticks = sum(int(f[11]) + int(f[12])
                for p, f in _stats() if p == pid or (session is not None and int(f[3]) == session))
    return ticks / os.sysconf("SC_CLK_TCK")


def child_processes(pid):
    """Process ``pid``'s live children, but for multiprocessing's resource tracker: a helper each process
    that uses multiprocessing starts once, and which ends when that process does."""
    return {p for p, f in _stats() if int(f[1]) == pid and f[0] != "Z" and not _is_resource_tracker(p)}


def _is_resource_tracker(pid):
    try:
        return b"multiprocessing.resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def session_processes(session):
    return [p for p, f in _stats() if int(f[3]) == session and f[0] != "Z"]


def threads_listed():
    """The ids of this process's threads as the kernel lists them. A joined thread is still listed for a
    moment: join() returns (Python's and pthread's alike) once the thread's work is done, before the kernel
    removes it."""
    return set(os.listdir("/proc/self/task"))


def poll(condition, timeout):
    """Whether ``condition()`` came true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)  # polling a condition, not a guess at how long something takes
    return True


def wait_until(condition, timeout, what):
    if not poll(condition, timeout):
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")
