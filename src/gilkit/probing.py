"""`gilkit.probe`: does this code release the GIL, and will threads help? For any callable.

The callable is timed like ``timeit`` (a warm-up call, then batches of calls long enough to time, the
rounds interleaved across worker counts, best and median), alone on one thread and as N copies on N
threads, with the two heartbeats of gilkit.heartbeat running during the one-thread rounds. The report
gives the time of one call, the speedup of N calls on N threads over N calls in a row, CPU time per
wall time, the heartbeat lateness (and the GIL's share of it), and a verdict in words with its evidence.
"""

import functools
import math
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import _validate
from ._build import build_label
from ._cpus import usable_cpus
from ._durations import Durations
from ._text import aligned
from .heartbeat import HeartbeatProbe, gil_share_ms, gil_wait
from .verdict import Evidence, Verdict, verdict

#: A batch of calls lasts at least this long, so that timer and thread start-up costs vanish in it.
BATCH_SECONDS = 0.2


@dataclass(frozen=True)
class Scaling:
    """N copies of the call on N threads, each making ``calls`` calls, against one thread."""

    workers: int
    best_s: float
    median_s: float
    #: N calls on N threads over N calls in a row, from the best and from the median times.
    speedup_best: float
    speedup_median: float
    #: Process CPU time over wall time while the N threads ran: about N when they all ran at once.
    cpu_per_wall: float
    #: The share of the threads' time spent waiting for a CPU (Linux: /proc schedstat), or None.
    cpu_wait_share: float | None


@dataclass(frozen=True)
class ProbeReport:
    label: str
    build: str
    #: Calls per thread per timed batch, and how many rounds were timed.
    calls: int
    rounds: int
    call_best_s: float
    call_median_s: float
    scaling: list[Scaling]
    heartbeat_median_ms: float
    heartbeat_p99_ms: float
    heartbeat_max_ms: float
    control_median_ms: float
    gil_median_ms: float
    gil_p90_ms: float
    gil_p99_ms: float
    gil_max_ms: float
    verdict: Verdict = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Every figure as JSON-able values: a figure that was not measured (NaN) is None."""
        data = asdict(self)
        data["verdict"] = {"finding": self.verdict.finding, "text": self.verdict.text,
                           "evidence": self.verdict.evidence}
        return json_ready(data)

    def table(self) -> str:
        rows = [["workers", "calls", "best s", "median s", "speedup", "median", "CPU/wall", "waited for CPU"]]
        for s in self.scaling:
            waited = "-" if s.cpu_wait_share is None else f"{s.cpu_wait_share:.0%}"
            rows.append([str(s.workers), str(s.workers * self.calls), f"{s.best_s:.4f}", f"{s.median_s:.4f}",
                         f"{s.speedup_best:.2f}x", f"{s.speedup_median:.2f}x", f"{s.cpu_per_wall:.2f}", waited])
        lines = [
            f"{self.label}  on {self.build}",
            f"one call: {_duration(self.call_best_s)} best, {_duration(self.call_median_s)} median "
            f"({self.calls} calls a batch, {self.rounds} rounds)",
            "",
            *aligned(rows),
            "",
            f"heartbeat (1 thread): {self.heartbeat_median_ms:.2f} ms median, {self.heartbeat_p99_ms:.2f} p99, "
            f"{self.heartbeat_max_ms:.2f} max late; the GIL's share {self.gil_median_ms:.2f} median, "
            f"{self.gil_p90_ms:.2f} p90, {self.gil_p99_ms:.2f} p99 (control heartbeat {self.control_median_ms:.2f} ms)",
            f"verdict: {self.verdict}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def json_ready(value: Any) -> Any:
    """``value`` with every float that JSON cannot hold (NaN: not measured; infinities), however deep in
    its dicts and lists, replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    return value


def _duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def probe(fn: Callable[..., object], /, *args: object, workers: Iterable[int] = (1, 2), rounds: int = 5,
          label: str | None = None, **kwargs: object) -> ProbeReport:
    """Time ``fn(*args, **kwargs)`` on 1 and on each of ``workers`` threads and say what the GIL does.

    Exceptions of ``fn`` propagate (the first one, from whichever thread). ``rounds`` timed rounds follow
    a warm-up call. The names ``workers``, ``rounds`` and ``label`` are the probe's own: wrap ``fn`` in a
    lambda to pass arguments of those names to it.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    counts = _worker_counts(workers)
    rounds = _validate.integer("rounds", rounds, minimum=1, maximum=1000)
    call = functools.partial(fn, *args, **kwargs)
    calls = _calls_per_batch(call)
    runs: dict[int, list[_Run]] = {count: [] for count in counts}
    lateness, control = Durations(), Durations()  # the beats of every round's one-thread run, pooled
    for _ in range(rounds):  # the worker counts interleaved, so a drift of the machine hits them alike
        for count in counts:
            if count > 1:
                runs[count].append(run_on_threads(call, count, calls))
                continue
            with HeartbeatProbe() as beats:
                runs[1].append(run_on_threads(call, 1, calls))
            lateness += beats.lateness
            control += beats.control
    times = {count: [run.wall_s for run in counted] for count, counted in runs.items()}
    single = times[1]
    scaling = [
        Scaling(count, min(times[count]), statistics.median(times[count]),
                speedup_best=count * min(single) / min(times[count]),
                speedup_median=count * statistics.median(single) / statistics.median(times[count]),
                cpu_per_wall=statistics.median(run.cpu_per_wall for run in runs[count]),
                cpu_wait_share=_median_or_none([run.cpu_wait_share for run in runs[count]]))
        for count in counts
    ]
    most = scaling[-1]
    found = verdict(Evidence(gil_wait(lateness, control), speedup=most.speedup_best, workers=most.workers,
                             cpu_per_wall=most.cpu_per_wall, cpu_wait_share=most.cpu_wait_share,
                             usable_cpus=usable_cpus(), one_thread_cpu_per_wall=scaling[0].cpu_per_wall))
    return ProbeReport(
        label=label or str(getattr(fn, "__qualname__", repr(fn))), build=build_label(), calls=calls, rounds=rounds,
        call_best_s=min(single) / calls, call_median_s=statistics.median(single) / calls, scaling=scaling,
        heartbeat_median_ms=lateness.median_ms, heartbeat_p99_ms=lateness.p99_ms, heartbeat_max_ms=lateness.max_ms,
        control_median_ms=control.median_ms, gil_median_ms=gil_share_ms(lateness, control, 0.5),
        gil_p90_ms=gil_share_ms(lateness, control, 0.9), gil_p99_ms=gil_share_ms(lateness, control, 0.99),
        gil_max_ms=gil_share_ms(lateness, control, 1.0), verdict=found,
    )


def _worker_counts(workers: Iterable[int]) -> list[int]:
    if isinstance(workers, (str, bytes)) or not isinstance(workers, Iterable):
        raise TypeError(f"workers must be a sequence of thread counts such as (1, 2), not {workers!r}")
    counts = {_validate.integer("workers", count, minimum=1, maximum=_validate.MAX_WORKERS) for count in workers}
    return sorted(counts | {1})  # one thread is what every speedup is measured against


def _median_or_none(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def _calls_per_batch(call: Callable[[], object]) -> int:
    """Warm up, then the number of calls (1, 2, 5, 10, 20, 50, ...) that lasts BATCH_SECONDS, as timeit."""
    call()
    calls = 1
    while True:
        for factor in (1, 2, 5):
            count = calls * factor
            start = time.perf_counter()
            for _ in range(count):
                call()
            if time.perf_counter() - start >= BATCH_SECONDS:
                return count
        calls *= 10


def _thread_cpu_wait_s() -> float | None:
    """How long this thread has waited on a run queue for a CPU (Linux), or None."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class _Run:
    """One timed run of ``count`` threads: its wall time, CPU per wall, and share of time spent waiting
    for a CPU (None where the platform does not say)."""

    wall_s: float
    cpu_per_wall: float
    cpu_wait_share: float | None
    threads: tuple[threading.Thread, ...]


def run_on_threads(call: Callable[[], object], count: int, calls: int, *, name: str = "gilkit-probe",
                   ready: Callable[[tuple[threading.Thread, ...]], object] | None = None) -> _Run:
    """``count`` threads (named NAME-0, NAME-1, ...), released together, each making ``calls`` calls; the
    first error is raised once they have all ended. ``ready(threads)`` runs once they have started, before
    they are released."""
    start = threading.Barrier(count + 1)
    errors: list[BaseException] = []
    waited: list[float | None] = []

    def work() -> None:
        start.wait()
        before = _thread_cpu_wait_s()
        try:
            for _ in range(calls):
                call()
        except BaseException as exc:
            errors.append(exc)
        after = _thread_cpu_wait_s()
        waited.append(None if before is None or after is None else after - before)

    threads = [threading.Thread(target=work, name=f"{name}-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    if ready is not None:
        ready(tuple(threads))
    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    start.wait()
    for thread in threads:
        while thread.is_alive():  # join with a timeout: Ctrl-C reaches the main thread within a second
            thread.join(0.5)
    wall = time.perf_counter() - wall_before
    if errors:
        raise errors[0]
    known = [w for w in waited if w is not None]
    return _Run(wall, (time.process_time() - cpu_before) / wall,
                sum(known) / (count * wall) if len(known) == count else None, tuple(threads))


class StatementError(Exception):
    """A statement or its setup that does not compile or raises: one line says which, and why."""


def compile_statement(statement: str, setup: str = "", namespace: dict[str, Any] | None = None) -> Callable[[], None]:
    """The statement as a function of no arguments, run in ``namespace`` (a new one by default) once the
    setup has run there. A statement or setup that does not compile, or a setup that raises, raises
    StatementError with a one-line message."""
    scope: dict[str, Any] = {"__name__": "__gilkit_probe__"} if namespace is None else namespace
    code = {}
    for what, text in (("setup", setup), ("statement", statement)):
        try:
            code[what] = compile(text, f"<{what}>", "exec")
        except SyntaxError as exc:
            raise StatementError(f"the {what} does not compile: {exc.msg} (line {exc.lineno}): {text!r}") from None
    try:
        exec(code["setup"], scope)
    except Exception as exc:
        raise StatementError(f"the setup raised {type(exc).__name__}: {exc}") from None
    body = code["statement"]

    def run() -> None:
        exec(body, scope)

    return run


def probe_statement(statement: str, setup: str = "", namespace: dict[str, Any] | None = None, *,
                    workers: Iterable[int] = (1, 2), rounds: int = 5) -> ProbeReport:
    """probe() for a statement given as text, run in ``namespace`` (a new one by default) after ``setup``.

    A statement or setup that does not compile, or raises in the setup or the first call, raises
    StatementError with a one-line message.
    """
    run = compile_statement(statement, setup, namespace)
    try:
        run()
    except Exception as exc:
        raise StatementError(f"the statement raised {type(exc).__name__}: {exc}") from None
    return probe(run, workers=workers, rounds=rounds, label=statement.strip())
