"""The GIL timelines the README shows: mandelbrot on 2 threads for each impl, and the convoy demo.

    python benchmarks/timeline_examples.py results/     # writes timeline-<build>-<impl>.png/.json and
                                                         # convoy-<build>-<case>.png/.json, prints the figures

<build> is "gil" or "freethreaded". The pictures need matplotlib (an interpreter without it writes the
traces and figures only).
"""

import contextlib
import sys
import tempfile
from pathlib import Path

import gilkit
from gilkit._build import free_threaded_build
from gilkit.demos import convoy_demo

PROBLEMS = {"native": (3000, 2000), "native-gil": (3000, 2000), "python": (300, 200)}


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    build = "freethreaded" if free_threaded_build() else "gil"
    for impl, (width, height) in PROBLEMS.items():
        timeline = gilkit.timeline(gilkit.mandelbrot, width, height, impl=impl, threads=2,
                                   label=f"gilkit.mandelbrot({width}, {height}, impl={impl!r}) on 2 threads")
        print(timeline.table(), end="\n\n")
        timeline.save_trace(folder / f"timeline-{build}-{impl}.json")
        with contextlib.suppress(ImportError):
            timeline.save_png(folder / f"timeline-{build}-{impl}.png")
    with tempfile.TemporaryDirectory() as scratch:
        print(convoy_demo(save=scratch).table())
        for saved in Path(scratch).iterdir():
            saved.rename(folder / saved.name.replace("convoy-", f"convoy-{build}-", 1))


if __name__ == "__main__":
    main()
