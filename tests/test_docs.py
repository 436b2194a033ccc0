"""The documentation's sources: the notebook is committed without outputs, and every link of the README
leads somewhere. (CI's docs stage builds the site strictly, executes the notebook and opens every page in
a browser; these checks need none of that.)"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.skipif(not README.exists() or not NOTEBOOKS,
                                reason="the repository's README and notebooks are not here (an installed sdist?)")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebooks_are_committed_without_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code, "a notebook with no code cell teaches nothing to run"
    for number, cell in enumerate(code):
        assert cell["outputs"] == [] and cell["execution_count"] is None, (
            f"code cell {number} of {notebook.name} was saved with its outputs: "
            "clear them (Jupyter: Edit > Clear Outputs of All Cells) before committing")


def test_every_link_of_the_readme_resolves():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [target for target in targets if not re.match(r"[a-z]+://", target)]
    assert local, "the README links to its documentation pages"
    missing = [target for target in local if not (ROOT / target).exists()]
    assert missing == []


def test_the_readme_fits_on_a_few_screens():
    assert len(README.read_text().splitlines()) <= 200
