"""`gilkit demo asyncio`: one event loop, a 16 ms ticker on it, and what runs in it or beside it.

The ticker records how late each of its frames is, like a GUI's main loop. Meanwhile:

* N requests to a slow echo server as coroutines on the loop, all at once: one thread overlaps the
  waits as well as N threads do (compared with N threads, and with one request after another);
* a kernel called inside a coroutine: the loop is frozen for the whole call;
* ``await asyncio.to_thread(kernel)``: the loop stays on time only if the kernel releases the GIL
  (native); native-gil freezes it for a chunk at a time, the python twin makes it late by about the
  switch interval. On a free-threaded build all three stay on time.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import _implementations
from .._build import gil_enabled
from .._implementations import Impl
from ._catalog import ASYNCIO_OPTIONS
from ._echo import SlowEchoServer, echo_once, running_echo_server
from ._result import DemoResult
from .responsive import frame_stats, run_work

FRAME_S = 0.016
LATENCY_S = 0.05


async def _ticker(stop: asyncio.Event) -> list[float]:
    """Wake every FRAME_S on the loop until ``stop``; how late each wake-up was."""
    loop = asyncio.get_running_loop()
    lateness = []
    deadline = loop.time() + FRAME_S
    while not stop.is_set():
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        now = loop.time()
        lateness.append(now - deadline)
        deadline = now + FRAME_S
    return lateness


async def _measured(work: Callable[[], Awaitable[Any]]) -> tuple[float, list[float]]:
    """Seconds ``work`` took, and the ticker's lateness meanwhile (its frame running when work ended)."""
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(stop))
    await asyncio.sleep(FRAME_S)  # the ticker is running before the work starts
    start = time.perf_counter()
    await work()
    seconds = time.perf_counter() - start
    stop.set()
    return seconds, await ticker


async def _request(address: tuple[str, int], payload: bytes) -> None:
    reader, writer = await asyncio.open_connection(*address)
    writer.write(payload)
    await writer.drain()
    received = await reader.readexactly(len(payload))
    writer.close()
    await writer.wait_closed()
    if received != payload:
        raise ConnectionError("the echo server sent back something else")


async def _demo(requests: int, server: SlowEchoServer) -> list[list[Any]]:
    address, payload = server.address, os.urandom(1024)
    loop = asyncio.get_running_loop()
    threads = ThreadPoolExecutor(requests, thread_name_prefix="gilkit-demo-io")

    async def at_once() -> None:
        await asyncio.gather(*(_request(address, payload) for _ in range(requests)))

    async def one_after_another() -> None:
        for _ in range(requests):
            await _request(address, payload)

    async def on_threads() -> None:
        await asyncio.gather(*(loop.run_in_executor(threads, echo_once, address, payload) for _ in range(requests)))

    def inline(impl: Impl) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            run_work(impl)  # not awaited: the loop cannot run until it returns
        return call

    def to_thread(impl: Impl) -> Callable[[], Awaitable[Any]]:
        return lambda: asyncio.to_thread(run_work, impl)

    on_main = _implementations.ACTIVE_IMPLEMENTATION
    variants: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        (f"{requests} requests at once, coroutines", at_once),
        (f"{requests} requests on {requests} threads", on_threads),
        (f"{requests} requests one after another", one_after_another),
        (f"kernel in a coroutine: {on_main}", inline(on_main)),
        *[(f"await to_thread(kernel): {impl}", to_thread(impl)) for impl in _implementations.available_impls()],
    ]
    rows = []
    try:
        await _request(address, payload)  # warm-up: the first connection and imports
        for name, work in variants:
            server.recount()
            seconds, lateness = await _measured(work)
            requests_at_once = server.most_at_once if "requests" in name else "-"
            rows.append([name, seconds, requests_at_once, *frame_stats(lateness, FRAME_S)])
    finally:
        threads.shutdown()
    return rows


(REQUESTS,) = ASYNCIO_OPTIONS


def asyncio_demo(requests: int = 8) -> DemoResult:
    """The ticker's lateness for each variant (see the module's docstring), and the finding in words."""
    requests = REQUESTS.whole(requests)
    with running_echo_server(LATENCY_S) as server:
        rows = asyncio.run(_demo(requests, server))
    by_name = {row[0].split(":")[0] if ":" in row[0] else row[0]: row for row in rows}
    at_once = by_name[f"{requests} requests at once, coroutines"]
    threads = by_name[f"{requests} requests on {requests} threads"]
    serial = by_name[f"{requests} requests one after another"]
    inline = by_name["kernel in a coroutine"]
    parts = [f"{requests} requests of {1000 * LATENCY_S:.0f} ms took {at_once[1]:.2f} s as coroutines on one loop, "
             f"{threads[1]:.2f} s on {requests} threads and {serial[1]:.2f} s one after another",
             f"a kernel called inside a coroutine froze the loop for {inline[5]:.0f} ms"]
    for row in rows:
        if row[0].startswith("await to_thread"):
            impl = row[0].rsplit(": ", 1)[1]
            parts.append(f"to_thread({impl}): worst frame {row[5]:.0f} ms late, median {row[3]:.1f} ms")
    rule = ("So asyncio.to_thread keeps the loop on time only for work that releases the GIL" if gil_enabled()
            else "With no GIL to hold, asyncio.to_thread keeps the loop on time whatever the work")
    finding = "; ".join(parts) + f". {rule}."
    columns = ["on the loop / beside it", "seconds", "requests at once", "p50 ms", "p99 ms", "max ms",
               "missed frames", "frames"]
    return DemoResult("asyncio", columns, rows, finding)
