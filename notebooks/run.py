"""Execute the lessons notebook as a teacher would, top to bottom in a real Jupyter kernel (ipykernel),
and keep the executed copy for the documentation site (build/notebooks/, which docs/hooks.py reads).

    python notebooks/run.py [NOTEBOOK]

Any cell that raises fails the run (exit 1, naming the cell); the committed notebook stays without
outputs (tests/test_docs.py checks), so its diffs show only what changed in the lesson.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parent / "build" / "notebooks"
#: A cell of the lesson takes seconds; one that takes this long is stuck.
CELL_TIMEOUT_S = 600


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else HERE / "gil-lessons.ipynb"
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(source.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        print(f"{source.name}: a cell failed\n{exc}", file=sys.stderr)
        return 1
    OUTPUT.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, OUTPUT / source.name)
    print(f"{source.name}: {len(notebook.cells)} cells ran in {time.perf_counter() - start:.0f} s; "
          f"executed copy in {OUTPUT / source.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
