"""The pictures and figures of docs/find-the-gil-holder.md: the example service (gil_holder_example.py)
under the GIL timeline, with the holder's stacks.

    python benchmarks/find_the_gil_holder.py [BATCHES]

writes, into benchmarks/results/: holder-example-gil.txt (the table), .folded (the folded stacks),
-flame.png (the flame graph), -timeline.png and .json (a Perfetto trace).
"""

import sys
from pathlib import Path

import gil_holder_example

import gilkit
from gilkit.plot import save_flame_graph

RESULTS = Path(__file__).parent / "results"


def main(batches: int) -> None:
    with gilkit.record_gil(label="json encoder beside a pure-Python parser") as recorder:
        gil_holder_example.serve(batches)
    recorded = recorder.timeline
    stem = RESULTS / "holder-example-gil"
    stem.with_suffix(".txt").write_text(recorded.table() + "\n")
    recorded.save_folded(stem.with_suffix(".folded"))
    save_flame_graph(recorded, RESULTS / "holder-example-gil-flame.png")
    recorded.save_png(RESULTS / "holder-example-gil-timeline.png")
    recorded.save_trace(stem.with_suffix(".json"))
    print(recorded.table())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
