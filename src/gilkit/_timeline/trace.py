"""A GIL timeline in the Chrome trace-event format, which ui.perfetto.dev and chrome://tracing open."""

import json
import os
from typing import Any

import numpy as np

from .analysis import figures
from .blame import Attribution
from .model import DESCRIPTIONS, Recording, Stretch


def chrome_trace(timeline: Recording) -> dict[str, Any]:
    """The Chrome trace-event format (ui.perfetto.dev, chrome://tracing): a track per thread with its
    states as slices (a hold named by the function that held the GIL longest in it, a wait for the GIL
    with the holder it was behind in its args), GIL switches as instant events on the new holder's
    track, and gilkit's kernel chunks on a second process's tracks."""
    pid = os.getpid()
    attribution = Attribution(timeline)

    def state_slice(tid: int, stretch: Stretch) -> dict[str, Any]:
        event: dict[str, Any] = {"name": DESCRIPTIONS[stretch.state], "cat": "gil", "ph": "X", "pid": pid,
                                 "tid": tid, "ts": us(stretch.start_s), "dur": us(stretch.seconds)}
        if stretch.state in ("holding", "waiting_gil"):
            first, stop = np.searchsorted(timeline.times, [stretch.start_s, stretch.stop_s]).tolist()
            place = attribution.top_place(first, stop, holder_too=stretch.state == "waiting_gil")
            if place is not None and stretch.state == "holding":
                event["name"] += f": {place.rsplit(' > ', 1)[-1]}"
                event["args"] = {"held in": place}
            elif place is not None:
                event["args"] = {"behind": place}
        return event

    chunks_pid = pid + 1 if pid < 2**31 - 1 else pid - 1

    def us(seconds: float) -> float:
        return round(1e6 * seconds, 3)

    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": pid, "args": {"name": f"GIL timeline: {timeline.label}"}},
        {"name": "process_name", "ph": "M", "pid": chunks_pid, "args": {"name": "gilkit kernel chunks"}},
    ]
    for order, lane in enumerate(timeline.lanes):
        for process in (pid, chunks_pid):
            events.append({"name": "thread_name", "ph": "M", "pid": process, "tid": lane.tid,
                           "args": {"name": lane.name}})
            events.append({"name": "thread_sort_index", "ph": "M", "pid": process, "tid": lane.tid,
                           "args": {"sort_index": order}})
        events += [state_slice(lane.tid, stretch) for stretch in lane.stretches]
    for chunk in timeline.chunks:
        events.append({"name": f"{chunk.function} chunk", "cat": "gilkit", "ph": "X", "pid": chunks_pid,
                       "tid": chunk.tid, "ts": us(chunk.start_s), "dur": us(chunk.stop_s - chunk.start_s)})
    if timeline.gil_read and timeline.samples > 1:
        # A sample after which the interpreter's switch counter moved on: the GIL has a new holder.
        changed = np.flatnonzero((np.diff(timeline.switch_counts) > 0) & (timeline.holders[1:] != 0)) + 1
        shown = {lane.tid for lane in timeline.lanes}
        events += [{"name": "GIL switch", "cat": "gil", "ph": "i", "s": "t", "pid": pid,
                    "tid": int(timeline.holders[k]), "ts": us(float(timeline.times[k]))}
                   for k in changed.tolist() if int(timeline.holders[k]) in shown]
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": figures(timeline)}


def save_trace(timeline: Recording, path: str | os.PathLike[str]) -> None:
    with open(path, "w") as f:
        json.dump(chrome_trace(timeline), f)
