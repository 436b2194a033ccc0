"""The sampler's records (ext/gil_sampler.h: a sample, a change of a thread's state) as NumPy's structured
dtypes, checked against the sizes the compiled module reports, and decoded into the model's lanes.

The state codes come from the compiled module (``STATE_CODES``), so the order of ``State`` cannot drift
from the C enum; the dtypes are declared here, and a recording refuses to start where the C structs are laid
out differently.
"""

import functools
import os
import sys
import threading
from types import ModuleType

import numpy as np

from .._durations import Durations
from .model import ELIDED, STATES, Frame, Stacks, State, Stretch, ThreadLane, gil_waits

SAMPLE = np.dtype([("time", "f8"), ("switches", "i8"), ("holder_cpu_ns", "i8"), ("holder", "i4"),
                   ("locked", "i1"), ("drop_request", "i1"), ("other_gils", "i1")], align=True)
CHANGE = np.dtype([("sample", "i4"), ("tid", "i4"), ("state", "i4")])
STACK_SAMPLE = np.dtype([("sample", "i4"), ("tid", "i4"), ("stack", "i4")])
STACK_NODE = np.dtype([("parent", "i4"), ("function", "i4")])


class LayoutError(RuntimeError):
    """The compiled sampler's records do not match what this module reads."""


def state_names(sampler_module: ModuleType) -> dict[int, State | None]:
    """Each state code of the compiled sampler, by the state it means (None: the thread has ended); the
    record dtypes checked against the structs' sizes. LayoutError where they disagree."""
    ours = (SAMPLE.itemsize, CHANGE.itemsize, STACK_SAMPLE.itemsize, STACK_NODE.itemsize)
    theirs = (sampler_module.SAMPLE_SIZE, sampler_module.CHANGE_SIZE, sampler_module.STACK_SAMPLE_SIZE,
              sampler_module.STACK_NODE_SIZE)
    if ours != theirs:
        raise LayoutError(f"the sampler's records are {theirs} bytes, gilkit reads {ours}: rebuild gilkit")
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


def stacks(sampler: object, samples: int, unknown: int, elided: int) -> Stacks | None:
    """The stacks a stopped sampler read (None where it read none) in its ``samples`` samples (a sample
    cut short by a full buffer may have its stack read, and is left out); ``unknown`` and ``elided``: the
    compiled module's STACK_UNKNOWN and FUNCTION_ELIDED."""
    tables = sampler.stack_tables()  # type: ignore[attr-defined]
    if tables is None:
        return None
    raw_nodes, functions, full = tables
    records = np.frombuffer(sampler.stack_samples(), STACK_SAMPLE)  # type: ignore[attr-defined]
    records = records[records["sample"] < samples]
    nodes = np.frombuffer(raw_nodes, STACK_NODE)
    # A function named twice (its code object made anew at another address) is one frame.
    frames: dict[Frame, int] = {ELIDED: 0}
    index = [frames.setdefault(_frame(*named), len(frames)) for named in functions]
    function_frames = np.array([*index, 0], dtype=np.int64)  # elided (-1) is the last entry: ELIDED
    node_functions = nodes["function"].astype(np.int64)
    return Stacks(
        samples=records["sample"].copy(), tids=records["tid"].copy(),
        nodes=np.where(records["stack"] == unknown, -1, records["stack"]),
        parents=nodes["parent"].copy(),
        node_frames=function_frames[np.where(node_functions == elided, -1, node_functions)],
        frames=tuple(frames), full=full,
    )


def _frame(function: str, file: str, line: int) -> Frame:
    path, module = _importable_as(file)
    return Frame(function, file, line, path, module)


@functools.lru_cache(maxsize=4096)
def _importable_as(file: str) -> tuple[str, str]:
    """A file's path relative to the sys.path entry it is found under (the longest), and the dotted module
    it is; the file itself and "" where it is under none (code made by exec, "<string>")."""
    if not os.path.isabs(file):
        return file, ""
    roots = [os.path.abspath(entry or os.curdir) for entry in sys.path if isinstance(entry, str)]
    under = [root for root in roots if file.startswith(root.rstrip(os.sep) + os.sep)]
    if not under:
        return file, ""
    path = os.path.relpath(file, max(under, key=len))
    stem, extension = os.path.splitext(path)
    module = stem.replace(os.sep, ".").removesuffix(".__init__") if extension == ".py" else ""
    return path.replace(os.sep, "/"), module
