"""The sampler's records (ext/gil_sampler.h: a sample, a change of a thread's state) as NumPy's structured
dtypes, checked against the sizes the compiled module reports, and decoded into the model's lanes.

The state codes come from the compiled module (``STATE_CODES``), so the order of ``State`` cannot drift
from the C enum; the dtypes are declared here, and a recording refuses to start where the C structs are laid
out differently.
"""

import threading
from types import ModuleType

import numpy as np

from .._durations import Durations
from .model import STATES, State, Stretch, ThreadLane, gil_waits

SAMPLE = np.dtype([("time", "f8"), ("switches", "i8"), ("holder_cpu_ns", "i8"), ("holder", "i4"),
                   ("locked", "i1"), ("drop_request", "i1")], align=True)
CHANGE = np.dtype([("sample", "i4"), ("tid", "i4"), ("state", "i4")])


class LayoutError(RuntimeError):
    """The compiled sampler's records do not match what this module reads."""


def state_names(sampler_module: ModuleType) -> dict[int, State | None]:
    """Each state code of the compiled sampler, by the state it means (None: the thread has ended); the
    record dtypes checked against the structs' sizes. LayoutError where they disagree."""
    if (SAMPLE.itemsize, CHANGE.itemsize) != (sampler_module.SAMPLE_SIZE, sampler_module.CHANGE_SIZE):
        raise LayoutError(f"the sampler's records are {sampler_module.SAMPLE_SIZE} and {sampler_module.CHANGE_SIZE} "
                          f"bytes, gilkit reads {SAMPLE.itemsize} and {CHANGE.itemsize}: rebuild gilkit")
    codes: dict[str, int] = sampler_module.STATE_CODES
    if set(codes) != {*STATES, "ended"}:
        raise LayoutError(f"the sampler's states are {sorted(codes)}, gilkit knows {sorted((*STATES, 'ended'))}")
    return {code: None if name == "ended" else name for name, code in codes.items()}  # type: ignore[misc]


def python_thread_names() -> dict[int, str]:
    return {thread.native_id: thread.name for thread in threading.enumerate() if thread.native_id is not None}


def lanes(times: np.ndarray, changes: np.ndarray, end: float, threads: list[tuple[int, str]],
          python_names: dict[int, str], gil_read: bool,
          names: dict[int, State | None]) -> tuple[tuple[ThreadLane, ...], int]:
    """Each watched thread's lane, the main thread first, then in the order they were first seen; and how
    many threads were left out as idle non-Python threads. ``names``: state_names()."""
    edges = np.append(times, end)
    main = threading.main_thread().native_id
    found, hidden = [], 0
    first_names: dict[int, str] = {}  # a thread id the kernel gave out again later keeps one lane
    for tid, kernel_name in threads:
        first_names.setdefault(tid, kernel_name)
    for tid, kernel_name in sorted(first_names.items(), key=lambda thread: thread[0] != main):
        rows = changes[changes["tid"] == tid]
        stretches = _stretches(edges, rows["sample"].tolist(), rows["state"].tolist(), names)
        if tid not in python_names and all(stretch.state == "blocked" for stretch in stretches):
            hidden += 1
            continue
        name = python_names.get(tid) or (kernel_name if kernel_name and not kernel_name.startswith("python")
                                         else f"thread {tid}")
        holds = [stretch.seconds for stretch in stretches if stretch.state == "holding"]
        found.append(ThreadLane(
            tid=tid, name=name, stretches=stretches,
            seen_s=stretches[-1].stop_s - stretches[0].start_s if stretches else 0.0,
            gil_waits=gil_waits(stretches) if gil_read else Durations(), longest_hold_s=max(holds, default=0.0),
        ))
    return tuple(found), hidden


def _stretches(edges: np.ndarray, samples: list[int], codes: list[int],
               names: dict[int, State | None]) -> tuple[Stretch, ...]:
    """A thread's changes of state (from sample k on, state code c) as stretches of time, up to its end."""
    stretches = []
    for index, (first, code) in enumerate(zip(samples, codes, strict=True)):
        state = names[code]
        if state is None:  # ended
            break
        last = samples[index + 1] if index + 1 < len(samples) else len(edges) - 1
        stretches.append(Stretch(float(edges[first]), float(edges[last]), state))
    return tuple(stretches)
