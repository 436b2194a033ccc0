"""A GIL timeline's stacks as folded stacks: one line per distinct stack, ``thread;outer;...;inner count``,
the format flamegraph.pl, inferno and speedscope read and py-spy writes. On a GIL build the samples are the
GIL holder's (a flame graph of where the GIL was held); on a build running without it, each running
thread's."""

import os
from collections import Counter

import numpy as np

from .model import Recording

#: The frame a sample stands under where its stack changed under the read or could not be read.
UNKNOWN = "(stack not read)"


def folded_stacks(recording: Recording) -> list[str]:
    """The folded lines, sorted; [] where no stacks were read."""
    stacks = recording.stacks
    if stacks is None:
        return []
    names = {lane.tid: lane.name for lane in recording.lanes}
    chosen = (stacks.tids == recording.holders[stacks.samples] if recording.gil_read
              else np.ones(len(stacks.tids), dtype=bool))
    counts = Counter(zip(stacks.tids[chosen].tolist(), stacks.nodes[chosen].tolist(), strict=True))
    lines = []
    for (tid, node), count in counts.items():
        frames = [str(frame) for frame in stacks.frames_of(node)] if node >= 0 else [UNKNOWN]
        # The format's separators: ';' between frames, the last space before the count.
        path = ";".join(part.replace(";", ":") for part in (names.get(tid, f"thread {tid}"), *frames))
        lines.append(f"{path} {count}")
    return sorted(lines)


def save_folded(recording: Recording, path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in folded_stacks(recording))
