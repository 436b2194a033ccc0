"""Where the GIL was held, and who each wait was behind: the sampler's Python stacks (model.Stacks) read
beside its samples. A thread's time holding the GIL is summed by the place it held it; a thread's time
waiting for the GIL, by the thread that held it meanwhile and the place that one held it. Each sample
counts for the time to the next.

A place (a ``Site``) is a stack told by two frames: the first that is the thread's own (past the
threading machinery that ran it: threading, concurrent.futures, gilkit's thread runner and executor) and
the innermost one that is not that machinery, the function that held the GIL when sampled (or that called
the compiled code that held it)."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .model import ELIDED, Frame, Recording

#: Modules whose frames run a thread's work rather than do it: a place starts past them.
RUNNER_MODULES = ("threading", "concurrent.futures.thread", "gilkit._thread_runs", "gilkit._executor",
                  "gilkit.gil_timeline", "gilkit._statements", "gilkit.testing")
#: How many places held_in() and blame() give at most.
TOP = 5


@dataclass(frozen=True)
class Site:
    """A place the GIL was held: the first frame of the thread's own code, and the innermost."""

    entry: Frame
    innermost: Frame
    #: Whether the innermost frame is the entry's or its callee's (no frames left out between).
    direct: bool

    def __str__(self) -> str:
        if self.entry == self.innermost:
            return str(self.entry)
        return f"{self.entry} > {'' if self.direct else '... > '}{self.innermost}"


@dataclass(frozen=True)
class Held:
    """Time a thread held the GIL at one place (``site`` None: its stack was not read)."""

    site: Site | None
    seconds: float
    #: The share of the thread's time holding the GIL.
    share: float


@dataclass(frozen=True)
class Behind:
    """Time a thread waited for the GIL while ``holder`` (a lane's name) held it at ``site``."""

    holder: str
    site: Site | None
    seconds: float


def site_of(frames: tuple[Frame, ...]) -> Site | None:
    if not frames:
        return None
    own = [index for index, frame in enumerate(frames) if frame != ELIDED and not _runs_threads(frame)]
    first, last = (own[0], own[-1]) if own else (len(frames) - 1, len(frames) - 1)
    return Site(frames[first], frames[last], direct=last - first <= 1)


def _runs_threads(frame: Frame) -> bool:
    return any(frame.module == name or frame.module.startswith(name + ".") for name in RUNNER_MODULES)


class Attribution:
    """A recording's samples with the GIL holder's place in each: where each thread held the GIL and what
    each waited behind. Empty where the GIL or the stacks were not read."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.readable = recording.gil_read and recording.stacks is not None and recording.samples > 0
        self.weights = np.diff(np.append(recording.times, recording.duration_s))
        # Per sample, the holder's stack: a node, -1 where it was not read.
        self.holder_nodes = np.full(recording.samples, -1, dtype=np.int64)
        if self.readable:
            stacks = recording.stacks
            assert stacks is not None
            own = stacks.tids == recording.holders[stacks.samples]
            self.holder_nodes[stacks.samples[own]] = stacks.nodes[own]
        self._sites: dict[int, Site | None] = {}

    def site(self, node: int) -> Site | None:
        if node not in self._sites:
            stacks = self.recording.stacks
            self._sites[node] = site_of(stacks.frames_of(node)) if stacks is not None and node >= 0 else None
        return self._sites[node]

    def _by_site(self, chosen: np.ndarray, keys: Iterable[tuple[object, ...]] = ()) -> dict[tuple[object, ...], float]:
        """The weight of the chosen samples, summed by (extra key..., the holder's place)."""
        totals: dict[tuple[object, ...], float] = defaultdict(float)
        nodes, weights = self.holder_nodes[chosen], self.weights[chosen]
        extra = list(keys) or [()] * len(nodes)
        for key, node, weight in zip(extra, nodes.tolist(), weights.tolist(), strict=True):
            totals[(*key, self.site(node))] += weight
        return totals

    def held_in(self, tid: int) -> list[Held]:
        """Where thread ``tid`` held the GIL, the longest first (at most TOP places)."""
        if not self.readable:
            return []
        held = self.recording.holders == tid
        total = float(self.weights[held].sum())
        found = sorted(self._by_site(held).items(), key=lambda item: -item[1])[:TOP]
        return [Held(key[-1], seconds, seconds / total) for key, seconds in found]  # type: ignore[arg-type]

    def waiting(self, tid: int) -> np.ndarray:
        """Per sample, whether thread ``tid`` waited for the GIL."""
        times, mask = self.recording.times, np.zeros(self.recording.samples, dtype=bool)
        for stretch in self.recording.lane(tid).stretches:
            if stretch.state == "waiting_gil":
                mask[np.searchsorted(times, stretch.start_s):np.searchsorted(times, stretch.stop_s)] = True
        return mask

    def blame(self, tid: int) -> tuple[float, list[Behind]]:
        """How long thread ``tid`` waited for the GIL, and behind whom and where, the longest first (at most
        TOP). The rest of the wait found the GIL free or changing hands (its holder unknown)."""
        if not self.readable:
            return 0.0, []
        waiting = self.waiting(tid)
        holders = self.recording.holders
        behind = waiting & (holders != 0) & (holders != tid)
        names = {lane.tid: lane.name for lane in self.recording.lanes}
        keys = [(names.get(holder, f"thread {holder}"),) for holder in holders[behind].tolist()]
        found = sorted(self._by_site(behind, keys).items(), key=lambda item: -item[1])[:TOP]
        return (float(self.weights[waiting].sum()),
                [Behind(key[0], key[1], seconds) for key, seconds in found])  # type: ignore[arg-type]

    def culprit(self, tids: Iterable[int]) -> Frame | None:
        """The innermost function where these threads held the GIL longest (None where unknown)."""
        held = np.isin(self.recording.holders, list(tids))
        totals: dict[Frame, float] = defaultdict(float)
        for key, seconds in self._by_site(held).items():
            site = key[-1]
            if isinstance(site, Site):
                totals[site.innermost] += seconds
        return max(totals, key=totals.__getitem__) if totals else None

    def top_place(self, first: int, stop: int, holder_too: bool) -> str | None:
        """Where the GIL was held longest from sample ``first`` to before ``stop`` (``holder_too``: and by
        whom, "encoder in ..."); None where no holder's stack was read there."""
        if not self.readable:
            return None
        names = {lane.tid: lane.name for lane in self.recording.lanes}
        totals: dict[tuple[int, Site], float] = defaultdict(float)
        holders = self.recording.holders[first:stop].tolist()
        for holder, node, weight in zip(holders, self.holder_nodes[first:stop].tolist(),
                                        self.weights[first:stop].tolist(), strict=True):
            site = self.site(node)
            if site is not None:
                totals[(holder, site)] += weight
        if not totals:
            return None
        holder, site = max(totals, key=totals.__getitem__)
        return f"{names.get(holder, f'thread {holder}')} in {site}" if holder_too else str(site)

    def unknown_share(self) -> float:
        """The share of the time the GIL was held whose holder's stack was not read."""
        held = self.recording.holders != 0
        total = float(self.weights[held].sum())
        return float(self.weights[held & (self.holder_nodes < 0)].sum()) / total if total > 0 else 0.0


def blame_line(name: str, waited_s: float, behind: list[Behind]) -> str:
    """"scanner waited 1.21 s for the GIL: 1.18 s behind encoder in encode_batch (app.py:12) > ..."."""
    if not behind:
        return f"{name} waited {waited_s:.2f} s for the GIL, never behind a holder whose stack was read"
    top = behind[0]
    where = f" in {top.site}" if top.site is not None else " (its stack not read)"
    return f"{name} waited {waited_s:.2f} s for the GIL: {top.seconds:.2f} s behind {top.holder}{where}"
