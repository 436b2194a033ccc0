"""`gilkit demo convoy`: an I/O thread answering requests beside a CPU-bound thread, the classic failure
of the GIL (David Beazley, "Understanding the Python GIL", 2010; CPython's bpo-7946).

An echo service runs on a thread of this process; a client in another process sends it requests one
after another over loopback and times each round trip. Each request wakes the service's thread, which
then needs the GIL to run the few lines that answer it. Alone, it gets it at once. Beside a thread that
runs pure Python, it waits until that thread is asked to let go, a whole switch interval
(``sys.getswitchinterval()``, 5 ms) per request; beside compiled code that holds the GIL, until the
chunk ends; beside compiled code that released it, not at all. A shorter switch interval shortens the
wait, at the price of more switches. Each case is recorded as a GIL timeline (gilkit.gil_timeline).
"""

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import _implementations, kernels
from .._build import gil_enabled
from .._implementations import Impl
from .._steady import INSIDE, chunk_max_iter
from ..gil_timeline import GilTimeline, record_gil
from ._catalog import CONVOY_OPTIONS
from ._result import DemoResult

PAYLOAD = b"x" * 64
#: One chunk of the compiled CPU thread's work: long enough to outlast several switch intervals.
CHUNK_SECONDS = 0.02
#: The timeline's interval: the service holds the GIL for tens of microseconds a request, so the
#: default 200 us would see few of its holds.
INTERVAL = 50e-6
#: The switch intervals the pure-Python case is measured at besides the default.
SHORTER_INTERVALS = (0.001,)

_CLIENT = """
import json, socket, sys, time
host, port, seconds, payload = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), b"x" * int(sys.argv[4])
with socket.create_connection((host, port), timeout=30) as connection:
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        start = time.perf_counter()
        connection.sendall(payload)
        received = 0
        while received < len(payload):
            chunk = connection.recv(65536)
            if not chunk:
                sys.exit("the service closed the connection")
            received += len(chunk)
        times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def _serve(listener: socket.socket) -> None:
    """Echo every request of one client until it goes away (closed, or killed mid-request: the live demo
    ends its client so)."""
    connection, _ = listener.accept()
    with connection, contextlib.suppress(ConnectionResetError, BrokenPipeError):
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := connection.recv(65536):
            connection.sendall(data)


def _cpu_work(impl: Impl) -> Callable[[], object]:
    """One unit of the CPU thread's work: a pure-Python loop, or chunks of compiled Mandelbrot rows."""
    if impl == "python":
        return lambda: sum(i * i for i in range(200_000))
    width = 400
    max_iter = chunk_max_iter(width, CHUNK_SECONDS)
    return lambda: kernels.mandelbrot(width, 2 * kernels.MANDELBROT_ROWS_PER_CHUNK, max_iter=max_iter, impl=impl,
                                      **INSIDE)


@contextlib.contextmanager
def _busy_beside(impl: Impl | None) -> Iterator[None]:
    """A thread that runs ``impl``'s work over and over for the ``with`` block (none for None)."""
    if impl is None:
        yield
        return
    work, stop = _cpu_work(impl), threading.Event()
    work()  # calibrated and warm before the service is timed

    def busy() -> None:
        while not stop.is_set():
            work()

    thread = threading.Thread(target=busy, name=f"cpu: {impl}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def _switch_interval(seconds: float) -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _round_trips(seconds: float, beside: Impl | None, label: str) -> tuple[list[float], GilTimeline]:
    """The client's round-trip times and the service's timeline, with ``beside`` running meanwhile."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=_serve, args=(listener,), name="echo service", daemon=True)
        server.start()
        host, port = listener.getsockname()[:2]
        client = [sys.executable, "-c", _CLIENT, host, str(port), str(seconds), str(len(PAYLOAD))]
        with _busy_beside(beside), record_gil(INTERVAL, label=label) as recorder:
            done = subprocess.run(client, capture_output=True, text=True, timeout=600, check=False)
        server.join()
    if done.returncode != 0:
        raise RuntimeError(f"the convoy demo's client failed: {done.stderr.strip()}")
    return json.loads(done.stdout), recorder.timeline


DURATION, SAVE, _LIVE = CONVOY_OPTIONS


def convoy_demo(duration: float = 1.0, save: str | os.PathLike[str] | None = None) -> DemoResult:
    """Round trips, one after another for ``duration`` seconds, to an echo service on a thread of this
    process, alone and beside a CPU-bound thread of each impl (and pure Python at shorter switch
    intervals); ``save``: a folder for each case's timeline as a picture (needs matplotlib) and a Chrome
    trace. (`gilkit demo convoy --live`: gilkit.demos.live_convoy.)"""
    duration = DURATION.seconds(duration)
    folder = None if save is None else Path(save)
    if folder is not None and not folder.is_dir():
        raise ValueError(f"save must be an existing folder, got {str(save)!r}")
    available = _implementations.available_impls()
    impls: list[Impl] = [impl for impl in ("python", "native-gil", "native") if impl in available]
    default = sys.getswitchinterval()
    cases: list[tuple[Impl | None, float]] = [(None, default), *((impl, default) for impl in impls),
                                              *(("python", s) for s in SHORTER_INTERVALS)]
    rows, seen = [], {}
    for beside, interval in cases:
        name = "alone" if beside is None else f"beside {beside}"
        with _switch_interval(interval):
            times, timeline = _round_trips(duration, beside, f"echo service {name}, switch interval "
                                                             f"{1000 * interval:g} ms")
        service = timeline.lane("echo service")
        seen[name, interval] = _Case(len(times) / sum(times), 1000 * statistics.median(times),
                                     service.share("waiting_gil"))
        rows.append([name, 1000 * interval, seen[name, interval].rate, 1000 * statistics.mean(times),
                     1000 * statistics.median(times), 1000 * statistics.quantiles(times, n=100)[98],
                     service.share("waiting_gil"), timeline.switches if timeline.switches is not None else "-"])
        if folder is not None:
            stem = folder / f"convoy-{name.replace(' ', '-')}-{1000 * interval:g}ms"
            timeline.save_trace(stem.with_suffix(".json"))
            with contextlib.suppress(ImportError):
                timeline.save_png(stem.with_suffix(".png"))
    columns = ["service", "switch ms", "requests/s", "mean ms", "median ms", "p99 ms", "waits for GIL", "GIL switches"]
    return DemoResult("convoy", columns, rows, _finding(seen, default))


@dataclass(frozen=True)
class _Case:
    rate: float
    #: The median round trip, and the share of the time the service's thread waited for the GIL.
    median_ms: float
    waiting: float


def _finding(seen: dict[tuple[str, float], _Case], default: float) -> str:
    alone = seen["alone", default].rate

    def rate(name: str, interval: float = default) -> str:
        case = seen[name, interval].rate
        fewer = f" ({alone / case:.0f}x fewer)" if case < alone / 1.5 else ""
        return f"{case:,.0f} requests/s{fewer}"

    def waits(name: str, interval: float = default) -> str:
        case = seen[name, interval]
        return (f"a request took {case.median_ms:.2f} ms (median), {case.median_ms / (1000 * interval):.1f} switch "
                f"intervals, and the service waited for the GIL {case.waiting:.0%} of the time")

    if not gil_enabled():
        worst = min(case.rate for case in seen.values())
        return (f"No GIL on this build: the service answers {alone:,.0f} requests/s alone and at least {worst:,.0f} "
                "beside any thread: what it shares with them is the CPUs, not a lock.")
    parts = [f"Alone the service answers {alone:,.0f} requests/s"]
    if ("beside python", default) in seen:
        parts.append(f"beside a pure-Python thread {rate('beside python')}: {waits('beside python')}: after a "
                     "blocking call (recv, send) it waits until the CPU thread is made to let go of the GIL")
    if ("beside native-gil", default) in seen:
        parts.append(f"beside compiled code that holds the GIL {rate('beside native-gil')}: "
                     f"{waits('beside native-gil')} (until a chunk ends)")
    if ("beside native", default) in seen:
        case = seen["beside native", default]
        parts.append(f"beside compiled code that released it {rate('beside native')}, waiting for the GIL "
                     f"{case.waiting:.0%} of the time (what it lost there, it lost to the CPUs it shares)")
    for shorter in SHORTER_INTERVALS:
        if ("beside python", shorter) in seen:
            parts.append(f"with a {1000 * shorter:g} ms switch interval, beside pure Python "
                         f"{rate('beside python', shorter)}: {waits('beside python', shorter)}, with more switches")
    return "; ".join(parts) + "."
