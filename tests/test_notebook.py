"""notebooks/: the tour's Jupytext source and its .ipynb say the same, and the .ipynb carries no
outputs (the test suite executes it through nbmake; see setup.cfg)."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks" / "report_tour.py"
NOTEBOOK = ROOT / "notebooks" / "report_tour.ipynb"


def test_the_notebook_is_made_from_its_source():
    source = jupytext.read(SOURCE)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert [(c.cell_type, c.source) for c in notebook.cells] == \
        [(c.cell_type, c.source) for c in source.cells], \
        "notebooks/report_tour.ipynb is behind its source: jupytext --to ipynb " \
        "notebooks/report_tour.py"


def test_the_committed_notebook_has_no_outputs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)


def test_the_tour_loads_every_shipped_run():
    """The notebook's code names every folder of pretrained/ (it loads each that ships)."""
    text = "\n".join(c.source for c in jupytext.read(SOURCE).cells if c.cell_type == "code")
    shipped = [p.parent.name for p in (ROOT / "pretrained").glob("*/config.json")]
    assert shipped and not [name for name in shipped if f'"{name}"' not in text]
