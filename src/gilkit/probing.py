"""`gilkit.probe`: does this code release the GIL, and will threads help? For any callable.

The callable is timed like ``timeit`` (a warm-up call, then batches of calls long enough to time, the
rounds interleaved across worker counts, best and median), alone on one thread and as N copies on N
threads, with the two heartbeats of gilkit.heartbeat running during the one-thread rounds. Then one more
round on N threads runs under the GIL sampler (gilkit.gil_timeline), apart from the timed rounds. The
report gives the time of one call, the speedup of N calls on N threads over N calls in a row, CPU time
per wall time, the sampler's reading of the GIL (where it can be read), the heartbeat lateness (and the
GIL's share of it: the verdict's evidence where the GIL cannot be read, a second opinion elsewhere), and
a verdict in words with its evidence.
"""

import functools
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import _validate
from ._build import build_label
from ._cpus import usable_cpus
from ._durations import Durations
from ._statements import StatementError, compile_statement
from ._text import aligned, json_ready
from ._thread_runs import ThreadRun, run_on_threads
from ._timeline.blame import Attribution
from .gil_timeline import gil_unreadable_reason, timeline
from .heartbeat import HeartbeatProbe, gil_share_ms, gil_wait
from .verdict import Evidence, GilReading, Verdict, verdict

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
    #: The sampler's reading on the most threads (None where the GIL cannot be read: the heartbeats judge),
    #: and why it could not be read then.
    gil_reading: GilReading | None
    gil_unreadable: str | None
    verdict: Verdict = field(repr=False)
    #: The function in which the threads held the GIL longest in that round (module and qualified name),
    #: read from the holder's stacks; None where they were not read.
    held_in: str | None = None

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
            self._reading_line(),
            f"heartbeat (1 thread): {self.heartbeat_median_ms:.2f} ms median, {self.heartbeat_p99_ms:.2f} p99, "
            f"{self.heartbeat_max_ms:.2f} max late; the GIL's share {self.gil_median_ms:.2f} median, "
            f"{self.gil_p90_ms:.2f} p90, {self.gil_p99_ms:.2f} p99 (control heartbeat {self.control_median_ms:.2f} ms)",
            self._verdict_line(),
        ]
        return "\n".join(lines)

    def _verdict_line(self) -> str:
        """The verdict, saying where the GIL was held when it was."""
        if self.held_in is None or self.verdict.finding not in ("holds", "hands over"):
            return f"verdict: {self.verdict}"
        return f"verdict: {self.verdict.text}, in `{self.held_in}` ({self.verdict.evidence})"

    def _reading_line(self) -> str:
        if self.gil_reading is None:
            return f"GIL sampler: not read here ({self.gil_unreadable}); the heartbeat judges"
        return f"GIL sampler ({self.scaling[-1].workers} threads): {self.gil_reading}"

    def __str__(self) -> str:
        return self.table()


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
    runs: dict[int, list[ThreadRun]] = {count: [] for count in counts}
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
    unreadable = gil_unreadable_reason()
    reading, held_in = (None, None) if unreadable is not None else read_gil(call, most.workers, calls,
                                                                            label=label or "probe")
    found = verdict(Evidence(gil_wait(lateness, control), reading, speedup=most.speedup_best, workers=most.workers,
                             cpu_per_wall=most.cpu_per_wall, cpu_wait_share=most.cpu_wait_share,
                             usable_cpus=usable_cpus(), one_thread_cpu_per_wall=scaling[0].cpu_per_wall))
    return ProbeReport(
        label=label or str(getattr(fn, "__qualname__", repr(fn))), build=build_label(), calls=calls, rounds=rounds,
        call_best_s=min(single) / calls, call_median_s=statistics.median(single) / calls, scaling=scaling,
        heartbeat_median_ms=lateness.median_ms, heartbeat_p99_ms=lateness.p99_ms, heartbeat_max_ms=lateness.max_ms,
        control_median_ms=control.median_ms, gil_median_ms=gil_share_ms(lateness, control, 0.5),
        gil_p90_ms=gil_share_ms(lateness, control, 0.9), gil_p99_ms=gil_share_ms(lateness, control, 0.99),
        gil_max_ms=gil_share_ms(lateness, control, 1.0), gil_reading=reading, gil_unreadable=unreadable,
        verdict=found, held_in=held_in,
    )


def read_gil(call: Callable[[], object], count: int, calls: int, *,
             label: str = "probe") -> tuple[GilReading | None, str | None]:
    """The sampler's reading of the GIL while ``count`` threads each make ``calls`` calls, in a round of its
    own (the sampler's CPU time stays out of the timed rounds): gilkit.timeline's, of its threads; and the
    function in which they held the GIL longest (None where the stacks were not read)."""

    def batch() -> None:
        for _ in range(calls):
            call()

    recorded = timeline(batch, threads=count, label=label)
    culprit = Attribution(recorded).culprit(recorded.workers)
    return recorded.reading(), None if culprit is None else culprit.full_name


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
