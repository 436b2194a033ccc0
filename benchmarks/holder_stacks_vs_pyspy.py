"""Where the GIL was held, by gilkit's stacks and by py-spy's, on the same process at the same time.

    pip install py-spy
    python benchmarks/holder_stacks_vs_pyspy.py > results/holder-stacks-vs-pyspy-gil.txt

A child process runs the example service of docs/find-the-gil-holder.md (gil_holder_example.py: the C
JSON encoder beside a pure-Python parser) for a few seconds while gilkit records its GIL timeline with
the holder's stacks; py-spy attaches for the same seconds with ``record --gil --nonblocking --format raw``
(a sample keeps only the thread holding the GIL; the process is not paused). Each side's samples are
counted by the innermost function of the stack (py-spy names a function by its code's name, gilkit by its
qualified name: compared by the part after the last dot, and the file's base name), and the top five
are set side by side with their shares of each side's GIL-holding samples. gilkit's include the samples
whose stack it could not read, as "(stack not read)".
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from gilkit._build import build_label
from gilkit._text import aligned

SECONDS = 4
RATE = 500
TOP = 5

CHILD = """
import json, sys, threading, time
sys.path.insert(0, sys.argv[2])
import gilkit, gil_holder_example
from gilkit._timeline.blame import Attribution
seconds = float(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
with gilkit.record_gil() as recorder:
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        gil_holder_example.serve(2)
counts = {}
for line in recorder.timeline.folded_stacks():
    stack, count = line.rsplit(" ", 1)
    counts[stack.rsplit(";", 1)[-1]] = counts.get(stack.rsplit(";", 1)[-1], 0) + int(count)
print(json.dumps(counts))
"""


def function_key(frame: str) -> str:
    """"JSONEncoder.iterencode (json/encoder.py:205)" and "iterencode (json/encoder.py:257)" alike:
    "iterencode (encoder.py)"."""
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if match is None:
        return frame
    return f"{match[1].rsplit('.', 1)[-1]} ({match[2].rsplit('/', 1)[-1]})"


def top(counts: Counter[str]) -> list[tuple[str, float]]:
    total = sum(counts.values())
    return [(key, count / total) for key, count in counts.most_common(TOP)]


def main() -> None:
    if shutil.which("py-spy") is None:
        sys.exit("py-spy is not installed: pip install py-spy")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(SECONDS), str(Path(__file__).parent)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "ready"
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "pyspy.txt"
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(child.pid), "--gil", "--nonblocking", "--format",
                                "raw", "--rate", str(RATE), "--duration", str(SECONDS), "--output", str(raw)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        child.stdin.write("go\n")
        child.stdin.flush()
        ours = json.loads(child.stdout.readline())
        child.wait()
        spy.communicate(timeout=60)
        theirs: Counter[str] = Counter()
        for line in raw.read_text().splitlines():
            stack, count = line.rsplit(" ", 1)
            theirs[function_key(stack.rsplit(";", 1)[-1])] += int(count)
    gilkit_counts: Counter[str] = Counter()
    for frame, count in ours.items():
        gilkit_counts[function_key(frame)] += count
    print(f"The innermost function of the GIL holder's stack: gilkit vs py-spy --gil on {build_label()}, "
          f"the same process for {SECONDS} s ({sum(gilkit_counts.values())} and {sum(theirs.values())} samples)")
    rows = [["rank", "gilkit", "share", "py-spy", "share"]]
    pairs = zip(top(gilkit_counts), top(theirs), strict=False)  # either side may know fewer than TOP
    for rank, ((mine, my_share), (spy_key, spy_share)) in enumerate(pairs, 1):
        rows.append([str(rank), mine, f"{my_share:.1%}", spy_key, f"{spy_share:.1%}"])
    print("\n".join(aligned(rows)))
    mine_top, spied = [key for key, _ in top(gilkit_counts)], [key for key, _ in top(theirs)]
    print(f"the same {TOP} functions: {'yes' if set(mine_top) == set(spied) else 'no'}; "
          f"in the same order: {'yes' if mine_top == spied else 'no'} (py-spy's shares are of "
          f"{sum(theirs.values())} samples: +-{100 / sum(theirs.values()) ** 0.5:.1f} pp at most, one sigma)")


if __name__ == "__main__":
    main()
