"""The GIL timeline's per-thread shares of the GIL against py-spy's on the same runs.

    pip install py-spy
    python benchmarks/timeline_vs_pyspy.py > results/timeline-vs-pyspy-gil.txt

A child process runs two threads of a kernel (native, native-gil, python twin) over and over for a few
seconds while gilkit records its GIL timeline inside it; py-spy attaches to the same process for the same
seconds with ``record --gil --idle --threads`` (each sample keeps only the thread that holds the GIL)
and ``--nonblocking`` (it does not pause the process, which would change what it measures). A thread's
share by py-spy is its samples over all samples; by gilkit, its time holding the GIL over the
recording's. The two windows start within a few milliseconds of each other and the work is the same
from start to end, so the shares can be compared. Threads are matched by their native ids.
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

SECONDS = 3.0
RATE = 500  # py-spy's samples a second
MODE = sys.argv[1:] or ["--nonblocking"]

CHILD = """
import json, sys, threading, time
import gilkit
from gilkit._steady import INSIDE
impl, seconds = sys.argv[1], float(sys.argv[2])
call = lambda: gilkit.mandelbrot(*((60, 16) if impl == "python" else (400, 64)), max_iter=1000, impl=impl, **INSIDE)
call()
print("ready", flush=True)
sys.stdin.readline()
until = time.perf_counter() + seconds
def work():
    while time.perf_counter() < until:
        call()
workers = [threading.Thread(target=work, name=f"worker-{i}") for i in range(2)]
with gilkit.record_gil() as recorder:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
timeline = recorder.timeline
print(json.dumps({"duration_s": timeline.duration_s, "samples": timeline.samples,
                  "threads": {lane.tid: [lane.name, lane.share("holding")] for lane in timeline.lanes}}))
"""


def pyspy_counts(path: Path) -> Counter[int]:
    """Samples per native thread id in py-spy's raw output (--threads labels each stack with it)."""
    counts: Counter[int] = Counter()
    for line in path.read_text().splitlines():
        match = re.match(r"thread \((\d+)\).* (\d+)$", line)
        if match:
            counts[int(match[1])] += int(match[2])
    return counts


def compare(impl: str) -> list[list[str]]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, impl, str(SECONDS)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "ready"
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "pyspy.txt"
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(child.pid), "--gil", "--idle", "--threads",
                                *MODE, "--format", "raw", "--rate", str(RATE), "--duration",
                                str(int(SECONDS)), "--output", str(raw)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        child.stdin.write("go\n")
        child.stdin.flush()
        ours = json.loads(child.stdout.readline())
        child.wait()
        spy_err, _ = spy.communicate(timeout=60)
        counts = pyspy_counts(raw) if raw.exists() else Counter()
    samples = re.search(r"Samples: (\d+)", spy_err)
    if samples is None or not counts:
        raise RuntimeError(f"py-spy recorded nothing: {spy_err.strip()}")
    total = int(samples[1])
    return [[impl, name, f"{share:.1%}", f"{counts[int(tid)] / total:.1%}",
             f"{100 * (share - counts[int(tid)] / total):+.1f} pp"]
            for tid, (name, share) in ours["threads"].items()]


def main() -> None:
    if shutil.which("py-spy") is None:
        sys.exit("py-spy is not installed: pip install py-spy")
    print(f"GIL share per thread: gilkit's timeline vs py-spy --gil on {build_label()}, 2 threads, "
          f"{SECONDS:g} s each")
    rows = [["impl", "thread", "gilkit", "py-spy", "difference"]]
    for impl in ("native", "native-gil", "python"):
        rows += compare(impl)
    print("\n".join(aligned(rows)))


if __name__ == "__main__":
    main()
