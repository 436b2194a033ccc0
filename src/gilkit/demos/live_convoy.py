"""`gilkit demo convoy --live`: the convoy, changed while the class watches.

The echo service of gilkit.demos.convoy answers a client in another process, request after request, and
a line on the terminal counts its requests a second, four times a second. Keys start and stop a thread
beside it (``p`` pure Python, ``g`` compiled code that holds the GIL, ``n`` compiled code that released
it) and switch the switch interval between 5 ms and 1 ms (``s``); ``q`` or Ctrl-C ends it. Every change
is written on a line of its own, with the rate just before it, so the terminal keeps the story: alone,
beside Python (about 300 times fewer), and back again.
"""

import contextlib
import os
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

from .._implementations import Impl, available_impls
from ._catalog import CONVOY_OPTIONS
from ._result import DemoResult
from .convoy import PAYLOAD, _cpu_work, _serve, convoy_demo

#: How often the counter is redrawn (and the client reports).
REFRESH_S = 0.25
#: The switch intervals ``s`` goes between.
INTERVALS_S = (0.005, 0.001)
KEYS: dict[str, Impl] = {"p": "python", "g": "native-gil", "n": "native"}
HELP = "[p] python  [g] native-gil  [n] native  [s] switch interval  [q] quit"

# The client ignores Ctrl-C, which a terminal sends to the whole process group: the demo ends it, and it
# ends by itself when the service goes away.
_CLIENT = """
import signal, socket, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
host, port, size, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
payload = b"x" * size
try:
    with socket.create_connection((host, port), timeout=60) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        count, since = 0, time.perf_counter()
        while True:
            connection.sendall(payload)
            received = 0
            while received < size:
                chunk = connection.recv(65536)
                if not chunk:
                    sys.exit(0)
                received += len(chunk)
            count += 1
            now = time.perf_counter()
            if now - since >= every:
                print(f"{count / (now - since):.1f}", flush=True)
                count, since = 0, now
except OSError:  # the service went away mid-request
    pass
"""


@dataclass
class _Beside:
    """The CPU-bound threads running beside the service, by impl."""

    threads: dict[Impl, tuple[threading.Thread, threading.Event]] = field(default_factory=dict)

    def toggle(self, impl: Impl) -> bool:
        """Start ``impl``'s thread, or stop it if it runs; whether it runs now."""
        if impl in self.threads:
            thread, stop = self.threads.pop(impl)
            stop.set()
            thread.join()
            return False
        work, stop = _cpu_work(impl), threading.Event()

        def busy() -> None:
            while not stop.is_set():
                work()

        thread = threading.Thread(target=busy, name=f"cpu: {impl}", daemon=True)
        thread.start()
        self.threads[impl] = (thread, stop)
        return True

    def names(self) -> str:
        return ", ".join(self.threads) or "nothing"

    def stop_all(self) -> None:
        for impl in list(self.threads):
            self.toggle(impl)


@contextlib.contextmanager
def _keys(stream: TextIO) -> Iterator[int]:
    """The file descriptor of ``stream``, a terminal put in cbreak mode (keys arrive one at a time, Ctrl-C
    still interrupts) and restored after."""
    fd = stream.fileno()
    if not os.isatty(fd):
        yield fd
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield fd
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def _service() -> Iterator[subprocess.Popen[str]]:
    """The echo service on a thread of this process, and its client in another, reporting its rate."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=_serve, args=(listener,), name="echo service", daemon=True)
        server.start()
        host, port = listener.getsockname()[:2]
        client = subprocess.Popen([sys.executable, "-c", _CLIENT, host, str(port), str(len(PAYLOAD)), str(REFRESH_S)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            yield client
        finally:
            client.kill()
            client.wait()
            server.join(timeout=5)
            assert client.stdout is not None
            client.stdout.close()


def live_convoy(keys: TextIO | None = None, out: TextIO | None = None) -> DemoResult:
    """Run the live convoy until ``q`` (or Ctrl-C): keys from ``keys`` (stdin), the counter on ``out``
    (stdout). Returns each configuration's last rate, in the order they were shown."""
    keys, out = keys or sys.stdin, out or sys.stdout
    available = available_impls()
    beside, interval_index = _Beside(), 0
    rate = [0.0]
    seen: list[list[object]] = []
    before = sys.getswitchinterval()
    sys.setswitchinterval(INTERVALS_S[0])

    def status() -> str:
        return (f"{rate[0]:>10,.0f} requests/s   beside: {beside.names()}   switch interval "
                f"{1000 * INTERVALS_S[interval_index]:g} ms   {HELP}")

    try:
        with _service() as client, _keys(keys) as fd:
            assert client.stdout is not None
            reader = threading.Thread(target=_read_rates, args=(client.stdout, rate), name="rates", daemon=True)
            reader.start()
            print(f"The convoy, live: an echo service on a thread of this process ({HELP}).", file=out, flush=True)
            while True:
                print("\r" + status() + "\x1b[K", end="", file=out, flush=True)
                ready, _, _ = select.select([fd], [], [], REFRESH_S)
                if not ready:
                    continue
                key = os.read(fd, 1).decode(errors="replace").lower()
                if key in ("q", ""):
                    break
                before_change, change = status(), None
                if key in KEYS and KEYS[key] in available:
                    seen.append([beside.names(), 1000 * INTERVALS_S[interval_index], rate[0]])
                    running = beside.toggle(KEYS[key])
                    change = f"{'+' if running else '-'} a {KEYS[key]} thread beside the service"
                elif key == "s":
                    seen.append([beside.names(), 1000 * INTERVALS_S[interval_index], rate[0]])
                    interval_index = (interval_index + 1) % len(INTERVALS_S)
                    sys.setswitchinterval(INTERVALS_S[interval_index])
                    change = f"switch interval {1000 * INTERVALS_S[interval_index]:g} ms"
                if change is not None:  # the counter as it stood, kept on its line, then what changed
                    print(f"\r{before_change}\x1b[K\n{change}", file=out, flush=True)
            seen.append([beside.names(), 1000 * INTERVALS_S[interval_index], rate[0]])
            print(file=out, flush=True)
    finally:
        beside.stop_all()
        sys.setswitchinterval(before)
    return DemoResult("convoy --live", ["beside the service", "switch ms", "requests/s (last shown)"], seen,
                      "Each row is what the counter showed just before a change: the service's rate alone, "
                      "beside each thread, and at each switch interval.")


def _read_rates(stream: TextIO, rate: list[float]) -> None:
    for line in stream:
        with contextlib.suppress(ValueError):
            rate[0] = float(line)


_DURATION, _SAVE, LIVE = CONVOY_OPTIONS


def convoy_or_live(duration: float = 1.0, save: str | os.PathLike[str] | None = None,
                   live: bool = False) -> DemoResult:
    """`gilkit demo convoy`: the measured cases (gilkit.demos.convoy), or with ``live`` the live counter."""
    if not LIVE.flag(live):
        return convoy_demo(duration=duration, save=save)
    if save is not None:
        raise ValueError("save writes the measured cases' timelines; the live counter has none: drop one")
    return live_convoy()
