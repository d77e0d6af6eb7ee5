"""Run the tutorial notebook from top to bottom and save it with its new outputs, so what
people read (on GitHub, say) is what the code prints today:

    make notebook          # or: .venv/bin/python notebooks/run_notebook.py

Run it after any change to what NN_Numpy.py or math_checks.py print.
tests/tutorial/test_notebook.py runs the notebook the same way and fails, naming the cell, when
a saved output is not what the code prints (numbers aside: they move with every BLAS and every
timing).
"""

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent / "1.0-nn-from-scratch-tutorial.ipynb"
# Figures as PNGs in the outputs, even when the caller (a test) set MPLBACKEND=Agg.
INLINE_FIGURES = "module://matplotlib_inline.backend_inline"


def run_notebook(path: Path = NOTEBOOK) -> nbformat.NotebookNode:
    """The notebook at path, executed in a fresh kernel from the notebook's folder; raises
    CellExecutionError, naming the cell, if any cell fails (its asserts included)."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timings of an earlier run
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        record_timing=False,  # no timestamps: a re-run changes only what the code prints
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env={**os.environ, "MPLBACKEND": INLINE_FIGURES})
    return notebook


if __name__ == "__main__":
    nbformat.write(run_notebook(), NOTEBOOK)
    print(f"{NOTEBOOK.name}: run, outputs saved")
