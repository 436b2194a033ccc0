"""`gilkit demo dask`: the GIL lesson one level up, on Dask's schedulers and a real distributed cluster.

One lazy mandelbrot (gilkit.dask) of 16 row bands a run, computed by ``impl="native"`` (GIL released)
and by ``impl="python"`` (the pure-Python twin) on: Dask's synchronous scheduler (one thread: the
baseline), its threaded scheduler, its processes scheduler (a process pool started at every compute),
and two ``dask.distributed.LocalCluster``s started and closed here (2 worker processes of 1 thread, and
1 worker process of 2 threads). Every run's image is checked against the baseline's, bit for bit.
Rounds are interleaved over every (impl, scheduler), best and median kept.
"""

import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._arithmetic import ceil_div
from .._build import gil_enabled
from .._implementations import Impl
from ._catalog import DASK_OPTIONS
from ._result import DemoResult

#: (width, height) per impl: one to two seconds on one thread here, each. A 16 x 16 image of one tile
#: measures what every compute costs on a scheduler besides the work.
SIZES: dict[Impl, tuple[int, int]] = {"native": (6400, 4800), "python": (480, 360)}
EMPTY = (16, 16)
EMPTY_RUN = "empty"
BANDS = 16
WORKERS = 2
ONE_THREAD = "one thread (sync)"
#: (name, worker processes, threads per worker)
CLUSTERS = (("LocalCluster: 2 workers x 1 thread", 2, 1), ("LocalCluster: 1 worker x 2 threads", 1, 2))


(ROUNDS,) = DASK_OPTIONS


def dask_demo(rounds: int = 3, announce: Callable[[str], None] | None = None,
              sizes: dict[Impl, tuple[int, int]] | None = None) -> DemoResult:
    """Time every (impl, scheduler) on images of ``sizes`` (default: SIZES); ``announce`` gets each
    cluster's dashboard address while it runs (default: a line on stderr)."""
    rounds = ROUNDS.whole(rounds)
    from .. import dask as gilkit_dask  # Dask is an optional extra: imported only by this demo

    say = announce or (lambda line: print(line, file=sys.stderr, flush=True))
    images: dict[str, Any] = {
        impl: gilkit_dask.mandelbrot(width, height, chunks=(ceil_div(height, BANDS), -1), impl=impl)
        for impl, (width, height) in (sizes or SIZES).items()}
    images[EMPTY_RUN] = gilkit_dask.mandelbrot(*EMPTY, chunks=-1)
    with _clusters(say) as clients:
        computes: dict[str, Callable[[Any], np.ndarray]] = {
            ONE_THREAD: lambda image: image.compute(scheduler="sync"),
            f"threads: {WORKERS}": lambda image: image.compute(scheduler="threads", num_workers=WORKERS),
            f"processes: {WORKERS}": lambda image: image.compute(scheduler="processes", num_workers=WORKERS),
            **{name: _on_cluster(client) for name, client in clients.items()},
        }
        seconds: dict[tuple[str, str], list[float]] = {(impl, name): [] for impl in images for name in computes}
        baseline = {impl: image.compute(scheduler="sync") for impl, image in images.items()}
        for _ in range(rounds):
            for (impl, name), times in seconds.items():
                started = time.perf_counter()
                result = computes[name](images[impl])
                times.append(time.perf_counter() - started)
                if not np.array_equal(result, baseline[impl]):
                    raise AssertionError(f"{name} computed another image than one thread did ({impl})")
    best = {key: min(times) for key, times in seconds.items()}
    median = {key: statistics.median(times) for key, times in seconds.items()}
    columns = ["impl", "scheduler", "best s", "median s", "speedup of best", "of median", "an empty run s"]
    rows = [[impl, name, best[impl, name], median[impl, name], best[impl, ONE_THREAD] / best[impl, name],
             median[impl, ONE_THREAD] / median[impl, name], best[EMPTY_RUN, name]]
            for impl, name in seconds if impl != EMPTY_RUN]
    return DemoResult("dask", columns, rows, _finding(best, list(computes), *images["native"].shape[::-1]))


def _on_cluster(client: Any) -> Callable[[Any], np.ndarray]:
    return lambda image: client.compute(image, sync=True)


@contextlib.contextmanager
def _clusters(say: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """The LocalClusters and their Clients, each warmed up (gilkit imported in every worker); closed on
    the way out, whatever happens."""
    import dask
    import distributed

    from ..dask import cluster_config

    with contextlib.ExitStack() as stack:
        stack.enter_context(dask.config.set(cluster_config()))
        clients = {}
        for name, workers, threads in CLUSTERS:
            started = time.perf_counter()
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=workers, threads_per_worker=threads, processes=True, dashboard_address=":0"))
            client = stack.enter_context(distributed.Client(cluster, set_as_default=False))
            client.run(_import_gilkit_dask)
            say(f"{name}: started in {time.perf_counter() - started:.1f} s, dashboard {cluster.dashboard_link}")
            clients[name] = client
        yield clients


def _import_gilkit_dask() -> None:
    import gilkit.dask  # noqa: F401  # what a worker's first task would otherwise pay for


def _finding(best: dict[tuple[str, str], float], names: list[str], width: int, height: int) -> str:
    def speedup(impl: str, name: str) -> str:
        return f"{best[impl, names[0]] / best[impl, name]:.2f}x"

    threads, processes, spread, shared = names[1:]
    costs = (f"an empty compute takes {best[EMPTY_RUN, processes]:.2f} s on the processes scheduler, which starts its "
             f"pool every time, and {best[EMPTY_RUN, spread]:.3f} s on a running cluster")
    if not gil_enabled():
        return (f"There is no GIL on this build: on {WORKERS} threads the native tiles ran "
                f"{speedup('native', threads)} and the pure-Python tiles {speedup('python', threads)} faster than on "
                f"one thread, and 1 worker with 2 threads gave {speedup('python', shared)}. Processes add only costs: "
                f"{costs}.")
    return (f"With the GIL, Dask's {WORKERS} threads ran the native tiles {speedup('native', threads)} faster than one "
            f"thread (their loops release the GIL) but the pure-Python tiles only {speedup('python', threads)}. Those "
            f"need processes: {speedup('python', spread)} on 2 single-threaded workers, while 1 worker with 2 threads "
            f"gave {speedup('python', shared)}, and {speedup('python', processes)} on the processes scheduler. "
            f"Processes cost start-up and transfers: {costs}; the native image ({width} x {height} int32, "
            f"{4 * width * height / 1e6:.0f} MB, brought back to this process) ran {speedup('native', spread)} on 2 "
            f"workers and {speedup('native', processes)} on the processes scheduler.")
