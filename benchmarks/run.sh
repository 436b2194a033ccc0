#!/usr/bin/env bash
# Regenerates benchmarks/results/ (the README's tables and plots) with one command:
#   benchmarks/run.sh [PYTHON]      # PYTHON defaults to `python`; gilkit must be installed in it
# Writes <build>-info.txt (the machine and build), <build>.json, <build>.png and <build>-bench.txt,
# where <build> is "gil" or "freethreaded"; once both exist, compare.txt sets them side by side.
set -euo pipefail
cd "$(dirname "$0")/results"
py=${1:-python}
build=$("$py" -c 'import sysconfig; print("freethreaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "gil")')
modes=threads,processes
if "$py" -c 'import gilkit, sys; sys.exit(not gilkit.OPENMP_ENABLED)'; then modes=$modes,openmp; fi
"$py" -m gilkit info | tee "$build-info.txt"
if "$py" -c 'import matplotlib' 2>/dev/null; then plotter=$py; else plotter=python3; fi
"$py" -m gilkit bench --modes "$modes" --json "$build.json" | tee "$build-bench.txt"
"$plotter" -m gilkit.plot "$build.json" "$build.png"   # another interpreter may draw it (no cp313t matplotlib)
if [[ -f gil.json && -f freethreaded.json ]]; then
  "$py" -m gilkit bench --compare gil.json freethreaded.json | tee compare.txt
fi
python3 ../readme_tables.py > readme-tables.md
