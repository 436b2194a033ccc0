"""MkDocs hooks: the site shows the README as its home page, and the saved measurements and the lessons
notebook where they live in the repository (benchmarks/results/, notebooks/), without a copy in docs/ to
fall out of date.

The notebook is taken as CI executed it (notebooks/run.py writes build/notebooks/), or, before anyone ran
it, as committed (without outputs).
"""

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
NOTEBOOK = "gil-lessons.ipynb"
EXECUTED_NOTEBOOK = ROOT / "build" / "notebooks" / NOTEBOOK


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns the notebook into a page
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for path in sorted(RESULTS.iterdir()):
        files.append(_outside_docs(RESULTS.parent, f"results/{path.name}", config))
    files.append(File.generated(config, "results/index.md", content=_results_index()))
    files.append(File.generated(config, "index.md", content=home_page((ROOT / "README.md").read_text())))
    executed = EXECUTED_NOTEBOOK.parent.parent
    files.append(_outside_docs(executed if EXECUTED_NOTEBOOK.exists() else ROOT, f"notebooks/{NOTEBOOK}", config))
    return files


def _outside_docs(folder: Path, uri: str, config: MkDocsConfig) -> File:
    """The file folder/uri, at uri in the site (a plain File: mkdocs-jupyter's wrapper cannot read a
    generated one's source)."""
    return File(uri, str(folder), config.site_dir, config.use_directory_urls)


def home_page(readme: str) -> str:
    """The README with its links made relative to the site: docs/X is the page X, benchmarks/results/X
    the saved result X. Any other link it has must resolve in the site too (the strict build checks)."""
    return re.sub(r"\]\((docs/|benchmarks/(?=results/))", "](", readme)


def _results_index() -> str:
    """A page that lists every saved result, since a static site has no directory listings."""
    lines = ["# Saved results", "",
             "Every file `benchmarks/run.sh` and the other scripts in `benchmarks/` saved, as committed.", ""]
    for path in sorted(RESULTS.iterdir()):
        lines.append(f"- [{path.name}]({path.name})")
    return "\n".join(lines) + "\n"
