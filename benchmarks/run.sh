#!/usr/bin/env bash
# Regenerates benchmarks/results/ (the README's tables and plots) with one command:
#   benchmarks/run.sh [PYTHON]      # PYTHON defaults to `python`; gilkit must be installed in it
# Writes <build>-info.txt (the machine and build), <build>.json, <build>.png, <build>-bench.txt, the
# demos' <build>-demo-*.txt, probe-examples-<build>[-load].txt, process-costs-<build>.txt, the GIL timelines
# (timeline-<build>-*.png/.json, convoy-<build>-*.png/.json, timeline-examples-<build>.txt; on the GIL build
# also the sampler's cost and, where py-spy is installed, the comparison with it), where Dask is installed
# (pip install ".[dask]") <build>-demo-dask.txt and out-of-core-<build>.txt, and where the peers are installed
# (pip install ".[peers]"), peers-<build>.txt, where <build> is "gil" or "freethreaded"; once both runs
# exist, compare.txt and readme-tables.md set them side by side.
set -euo pipefail
cd "$(dirname "$0")/results"
py=${1:-python}
build=$("$py" -c 'import sysconfig; print("freethreaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "gil")')
modes=threads,processes
if "$py" -c 'import gilkit, sys; sys.exit(not gilkit.OPENMP_ENABLED)'; then modes=$modes,openmp; fi
"$py" -m gilkit info | tee "$build-info.txt"
if "$py" -c 'import matplotlib' 2>/dev/null; then plotter=$py; else plotter=python3; fi
"$py" -m gilkit bench --detail --modes "$modes" --budget "${BUDGET:-6}" --save "$build.json" | tee "$build-bench.txt"
"$plotter" -m gilkit.plot "$build.json" "$build.png"   # another interpreter may draw it (no cp313t matplotlib)
for demo in io locks responsive ctypes asyncio convoy; do
  "$py" -m gilkit demo "$demo" | tee "$build-demo-$demo.txt"
done
"$py" ../probe_examples.py | tee "probe-examples-$build.txt"
"$py" ../probe_examples.py --load | tee "probe-examples-$build-load.txt"
"$py" ../process_costs.py | tee "process-costs-$build.txt"
"$py" ../timeline_examples.py . | tee "timeline-examples-$build.txt"   # also writes $build-demo-convoy's pictures
if [[ $build == gil ]]; then
  "$py" ../timeline_cost.py | tee "timeline-cost-$build.txt"
  if command -v py-spy >/dev/null; then "$py" ../timeline_vs_pyspy.py | tee "timeline-vs-pyspy-$build.txt"; fi
fi
if "$py" -c 'import dask, distributed' 2>/dev/null; then
  "$py" -m gilkit demo dask | tee "$build-demo-dask.txt"
  "$py" ../out_of_core.py | tee "out-of-core-$build.txt"
fi
if "$py" -c 'import numba, scipy, cv2, threadpoolctl' 2>/dev/null; then
  "$py" ../peers.py | tee "peers-$build.txt"
fi
if [[ -f gil.json && -f freethreaded.json ]]; then
  "$py" -m gilkit bench --compare gil.json freethreaded.json | tee compare.txt
fi
python3 ../readme_tables.py > readme-tables.md
