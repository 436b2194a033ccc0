"""What a GIL timeline adds up to: how long a holder kept the GIL while others waited, the reading a
verdict takes (gilkit.verdict), the verdict, every figure as JSON-able values, and the table."""

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._text import aligned, json_ready
from ..verdict import Evidence, GilReading, GilWait, Verdict, verdict
from .blame import Attribution, blame_line
from .model import STATES, Recording


def held_while_waited_s(timeline: Recording, cpu_time: bool) -> np.ndarray:
    """At every sample, how much longer the GIL's holder kept it while another thread waited for it
    (0 where nobody waited): in wall time, or in the holder's own CPU time (to within an interval)."""
    # Runs of samples with one holder and no switch in between (where samples are sparse, another
    # thread may have held the GIL between two that name the same holder); each sample's holder keeps
    # the GIL to the end of its run.
    new_holder = np.diff(timeline.holders, prepend=-1) != 0
    starts = np.flatnonzero(new_holder | (np.diff(timeline.switch_counts, prepend=-2) != 0))
    ends = np.append(starts[1:], timeline.samples)
    end = np.repeat(ends, np.diff(np.append(starts, timeline.samples)))
    held = np.append(timeline.times, timeline.duration_s)[end] - timeline.times
    if cpu_time:
        last, cpu = end - 1, timeline.holder_cpu_ns
        known = (cpu >= 0) & (cpu[last] >= 0)
        held = np.where(known, (cpu[last] - cpu) / 1e9, held)
    return np.where((timeline.locked == 1) & timeline.waited, np.maximum(held, 0.0), 0.0)


def gil_wait(timeline: Recording) -> GilWait:
    """The timeline as a meter reading for gilkit.verdict, over every sample, weighted by the time to
    the next: the median of how much longer the holder kept the GIL while others waited (wall time:
    what a waiting thread lives through), and the 90th percentile of the same in the holder's CPU
    time (whether the code kept the GIL while it ran, however busy the CPUs were). NaN where no
    thread ever waited for the GIL: nothing to judge."""
    if not timeline.gil_read:
        return timeline.heartbeat or GilWait(math.nan, math.nan, meter="timeline")
    if not timeline.waited.any():
        return GilWait(math.nan, math.nan, meter="timeline")
    weights = np.diff(np.append(timeline.times, timeline.duration_s))
    median = weighted_quantile(held_while_waited_s(timeline, cpu_time=False), weights, 0.5)
    p90 = weighted_quantile(held_while_waited_s(timeline, cpu_time=True), weights, 0.9)
    return GilWait(1000 * median, 1000 * p90, meter="timeline")


def reading(timeline: Recording, workers: Iterable[int] | None = None) -> GilReading | None:
    """What the sampler read of the GIL, for a verdict: its free share, each worker's share holding it
    (``workers``: native thread ids; by default the recording's own workers, else every lane), switches and
    waits. None where the GIL was not read."""
    if not timeline.gil_read or not timeline.samples:
        return None
    chosen = set(workers) if workers is not None else set(timeline.workers) or None
    held = tuple(lane.share("holding") for lane in timeline.lanes if chosen is None or lane.tid in chosen)
    return GilReading(timeline.free_share or 0.0, held, timeline.switches or 0, timeline.duration_s,
                      gil_wait(timeline))


def timeline_verdict(timeline: Recording, workers: Iterable[int] | None = None) -> Verdict:
    """The verdict on the sampler's reading (``workers`` as for reading()), or on the heartbeat's where
    the GIL could not be read."""
    return verdict(Evidence(gil_wait(timeline), reading=reading(timeline, workers),
                            gil=timeline.gil_read or timeline.heartbeat is not None))


def figures(timeline: Recording) -> dict[str, Any]:
    """Every figure as plain JSON-able values (`gilkit timeline --json`); None where not measured."""
    found = timeline_verdict(timeline)
    attribution = Attribution(timeline)

    def places(tid: int) -> dict[str, Any]:
        waited, behind = attribution.blame(tid)
        return {
            "held_in": [{"where": None if held.site is None else str(held.site),
                         "function": None if held.site is None else held.site.innermost.full_name,
                         "seconds": held.seconds, "share": held.share} for held in attribution.held_in(tid)],
            "waited_gil_s": waited,
            "waited_behind": [{"holder": entry.holder, "where": None if entry.site is None else str(entry.site),
                               "seconds": entry.seconds} for entry in behind],
        }

    return json_ready({
        "label": timeline.label,
        "build": timeline.build,
        "gil_read": timeline.gil_read,
        "note": timeline.note,
        "duration_s": timeline.duration_s,
        "interval_s": timeline.interval_s,
        "sample_interval_s": timeline.sample_interval_s,
        "samples": timeline.samples,
        "switches": timeline.switches,
        "switch_interval_s": timeline.switch_interval_s,
        "gil_free_share": timeline.free_share,
        "sampler_cpu_s": timeline.sampler_cpu_s,
        "truncated": timeline.truncated,
        "hidden_threads": timeline.hidden_threads,
        "unwatched_threads": timeline.unwatched_threads,
        "other_gils_held_max": int(timeline.other_gils.max()) if len(timeline.other_gils) else 0,
        "stacks": {"read": attribution.readable, "note": timeline.stacks_note,
                   "unknown_share": attribution.unknown_share() if attribution.readable else None},
        "threads": [{
            "tid": lane.tid,
            "name": lane.name,
            "seen_s": lane.seen_s,
            "shares": lane.shares,
            "longest_hold_s": lane.longest_hold_s,
            "gil_waits": {"count": len(lane.gil_waits), "median_ms": lane.gil_waits.median_ms,
                          "p90_ms": lane.gil_waits.p90_ms, "max_ms": lane.gil_waits.max_ms},
            "chunks": sum(chunk.tid == lane.tid for chunk in timeline.chunks),
            **places(lane.tid),
        } for lane in timeline.lanes],
        "verdict": {"finding": found.finding, "text": found.text, "evidence": found.evidence},
    })


def table(timeline: Recording) -> str:
    """The recording in a few lines: what was sampled, a row of shares per thread, and the verdict."""
    if timeline.gil_read:
        rows = [["thread", "holds GIL", "runs w/o GIL", "waits GIL", "waits CPU", "blocked", "longest hold",
                 "GIL waits (median, max)"]]
        for lane in timeline.lanes:
            waits = lane.gil_waits
            rows.append([lane.name, *(f"{lane.share(state):.0%}" for state in STATES),
                         f"{1000 * lane.longest_hold_s:.1f} ms",
                         f"{len(waits)}: {waits.median_ms:.2f} / {waits.max_ms:.2f} ms" if waits else "-"])
    else:  # nothing holds or waits for a GIL that is not read
        rows = [["thread", "runs", "waits CPU", "blocked"]]
        rows += [[lane.name, *(f"{lane.share(state):.0%}" for state in ("running", "waiting_cpu", "blocked"))]
                 for lane in timeline.lanes]
    if timeline.gil_read:
        gil = (f"{timeline.switches} GIL switches; GIL free {timeline.free_share:.0%} of the time; switch interval "
               f"{1000 * timeline.switch_interval_s:g} ms"
               + "".join(f"; {note}" for note in (timeline.other_gils_note, timeline.note) if note))
    else:
        gil = f"GIL not read: {timeline.note}"
    return "\n".join([
        f"{timeline.label}  on {timeline.build}",
        f"{1000 * timeline.duration_s:.1f} ms, {timeline.samples} samples every "
        f"{1e6 * timeline.sample_interval_s:.0f} us "
        f"(sampler CPU {1000 * timeline.sampler_cpu_s:.1f} ms); {gil}",
        "",
        *aligned(rows),
        *_places(timeline),
        "",
        f"verdict: {timeline_verdict(timeline)}",
    ])


#: A thread that held the GIL less of its time than this is left out of the table's places.
SHOWN_HOLDING_SHARE = 0.01


def _places(timeline: Recording) -> list[str]:
    """Lines saying where each thread held the GIL most and what each waited behind most."""
    attribution = Attribution(timeline)
    if not attribution.readable:
        return ["", f"stacks not read: {timeline.stacks_note}"] if timeline.gil_read else []
    held_rows, blamed = [["thread", "held there", "share", "where (its own first frame > the innermost)"]], []
    for lane in timeline.lanes:
        held = attribution.held_in(lane.tid)
        if held and lane.share("holding") >= SHOWN_HOLDING_SHARE:
            top = held[0]
            held_rows.append([lane.name, f"{top.seconds:.2f} s", f"{top.share:.0%}",
                              str(top.site) if top.site else "(stack not read)"])
        waited, behind = attribution.blame(lane.tid)
        if waited > 0:
            blamed.append(blame_line(lane.name, waited, behind))
    lines = []
    if len(held_rows) > 1:
        lines += ["", "where each thread held the GIL most:", *aligned(held_rows)]
    if blamed:
        lines += ["", "what each wait for the GIL was behind most:", *("  " + line for line in blamed)]
    return lines


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose share of the total weight, with every smaller value's, reaches q."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    if cumulative[-1] <= 0:
        return float(np.quantile(values, q))
    return float(values[order][min(len(values) - 1, np.searchsorted(cumulative, q * cumulative[-1]))])
