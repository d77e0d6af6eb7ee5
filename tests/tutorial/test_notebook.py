"""notebooks/1.0-nn-from-scratch-tutorial.ipynb runs; its saved outputs are today's."""

import re
import sys
from pathlib import Path

import nbformat

import NN_Numpy as nn

ROOT = Path(nn.__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "notebooks"))
import run_notebook  # notebooks/run_notebook.py (make notebook)


def cell_text(cell) -> str:
    """What a code cell printed and displayed, as text, with every number masked and the
    spacing collapsed (numbers move with BLAS and timing; numpy aligns by their width)."""
    text = "".join(
        output.get("text", "") or output.get("data", {}).get("text/plain", "")
        for output in cell.get("outputs", [])
    )
    return " ".join(re.sub(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", "#", text).split())


def test_tutorial_notebook_runs_and_its_saved_outputs_are_what_it_prints_today():
    saved = nbformat.read(run_notebook.NOTEBOOK, as_version=4)
    executed = run_notebook.run_notebook()  # raises CellExecutionError if any cell fails
    assert len(executed.cells) == len(saved.cells)
    for index, (now, before) in enumerate(zip(executed.cells, saved.cells)):
        assert cell_text(now) == cell_text(before), (
            f"cell {index}: the saved output is stale; re-save it with: make notebook"
        )
    text = " ".join(cell_text(cell) for cell in executed.cells)
    assert "validation accuracy: " in text and "weights_# relative error" in text
