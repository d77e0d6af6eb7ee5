"""The learning path: the notebook runs, and the tools that show the math tell the truth."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import math_checks
import NN_Numpy as nn
import use_network as un

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


def test_gradcheck_command_passes_on_the_real_network(capsys):
    assert un.main(["gradcheck", "--entries", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "Gradient check: network 784-128-64-10, initial weights, float64, a batch of 8 real "
        "training images"
    )
    assert [line.split()[0] for line in out[1:7]] == [
        "weights_0",
        "bias_0",
        "weights_1",
        "bias_1",
        "weights_2",
        "bias_2",
    ]
    assert all(line.endswith("ok") for line in out[1:7])
    assert re.fullmatch(r"PASS: largest relative error \d\.\d\de-\d\d \(< 1e-06\)", out[7])


def test_gradcheck_catches_a_wrong_derivative(monkeypatch, capsys):
    monkeypatch.setitem(
        nn.ACTIVATIONS, "relu", (nn.relu, lambda grad_output, output: grad_output)
    )  # forgets relu'
    assert un.main(["gradcheck", "--entries", "10"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: largest relative error" in out and "weights_0" in out


def test_gradcheck_at_a_trained_models_weights(tmp_path, small_split, capsys):
    network = nn.NeuralNetwork(seed=2)
    nn.train(
        network,
        small_split[0][:1000],
        small_split[1][:1000],
        config=nn.TrainConfig(epochs=2),
        log=lambda line: None,
    )
    network.save(tmp_path / "m.npz")
    assert un.main(["gradcheck", "--entries", "5", "--model", str(tmp_path / "m.npz")]) == 0
    assert f"weights of {tmp_path / 'm.npz'}" in capsys.readouterr().out


def test_explain_lists_the_eight_matrix_multiplies_with_real_shapes(capsys):
    assert un.main(["explain", "--batch-size", "16"]) == 0
    out = capsys.readouterr().out
    assert (
        "layer 1: z = input @ weights + bias: (16, 784) @ (784, 128) + (128,) -> (16, 128); "
        "output = relu(z)" in out
    )
    assert "layer 3: z = input @ weights + bias: (16, 64) @ (64, 10) + (10,) -> (16, 10)" in out
    assert "grad_weights = input.T @ grad_z: (784, 16) @ (16, 128) -> (784, 128)" in out
    assert "no grad_input (first layer)" in out
    # 3 forward, 3 weight-gradient and 2 input-gradient multiplies, as references/backprop.md says
    assert out.count("z = input @ weights") == 3
    assert out.count("grad_weights = input.T @ grad_z") == 3
    assert out.count("grad_input = grad_z @ weights.T") == 2


def test_math_note_names_only_code_that_exists():
    note = (ROOT / "references" / "backprop.md").read_text()
    for name in re.findall(r"`(\w+)`", note):
        if (
            name.islower() and "_" in name
        ):  # function and attribute names like relu_backward, grad_bias
            assert (
                hasattr(nn, name)
                or name in Path(nn.__file__).read_text()
                or any(hasattr(module, name) for module in (math_checks, un))
            ), name


def test_code_quoted_in_the_math_note_is_the_code():
    note = (ROOT / "references" / "backprop.md").read_text()
    source = {line.strip() for line in Path(nn.__file__).read_text().splitlines()}
    quoted = [
        line.strip()
        for block in re.findall(r"```python\n(.*?)```", note, re.S)
        for line in block.splitlines()
        if line.strip()
    ]
    assert quoted, "the note quotes no code any more: drop this test"
    for line in quoted:
        assert line in source, f"backprop.md quotes a line that is not in NN_Numpy.py: {line}"


TUTORIAL = {"NN_Numpy", "augment", "file_io", "negatives"}  # what importing NN_Numpy loads
REPORTS = {"figures", "robustness", "strokes", "digit_model", "math_checks"}  # and figures'
COMPANION = {  # each module -> every project module importing it loads (itself included)
    "file_io": {"file_io"},
    "augment": {"augment"},
    "negatives": {"negatives"},  # the non-digits NN_Numpy trains on (issue #20): imports nothing
    "NN_Numpy": TUTORIAL,
    "strokes": {"strokes"},
    "robustness": {"robustness", "strokes", "negatives", "file_io"},  # the report's issue #20
    "math_checks": {"math_checks"} | TUTORIAL,  # the notebook's: no server
    "digit_model": {"digit_model"} | TUTORIAL,
    "figures": REPORTS | TUTORIAL,
    "photos": {"photos"} | REPORTS | TUTORIAL,
    "submission": {"submission", "digit_model"} | TUTORIAL,
    "page_server": {"page_server"},  # stdlib only: the live-training page's base too
    "draw_server": {"draw_server", "page_server", "photos"} | REPORTS | TUTORIAL,
    # the live-training page: draw_server's pad on page_server
    "watch_training": {"watch_training", "draw_server", "page_server", "photos"}
    | REPORTS
    | TUTORIAL,
}


def test_every_module_of_src_is_in_the_import_table():
    modules = {path.stem for path in (ROOT / "src").glob("*.py")}
    assert modules == set(COMPANION) | {"use_network"}


@pytest.mark.parametrize(
    "module, expected",
    [
        *COMPANION.items(),
        ("use_network", set(COMPANION) | {"use_network"}),
    ],
)
def test_imports_run_one_way_and_load_each_module_once(module, expected):
    # The tutorial imports only augment (the distortions), negatives (the non-digits it trains
    # on, issue #20) and file_io (the careful file handling) next door; the companion modules
    # import the tutorial and each other as the table says; nothing imports use_network, the
    # command line.
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r}); import {module}; "
        f"print(sorted(name for name, m in sys.modules.items() "
        f"if getattr(m, '__file__', None) and {str(ROOT / 'src')!r} in m.__file__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(sorted(expected))


def test_project_modules_are_imported_at_the_top():
    # Imports inside functions are for slow third-party packages only (matplotlib, pandas,
    # PIL, sklearn), so that a command pays for what it uses; our own modules load at the top.
    # (NN_Numpy and file_io have their own owners; these are the companion's files.)
    ours = set(COMPANION) | {"use_network"}
    for path in sorted(
        ROOT / "src" / f"{name}.py" for name in ours - {"NN_Numpy", "augment", "file_io"}
    ):
        for line in path.read_text().splitlines():
            if line.startswith((" ", "\t")) and line.lstrip().startswith(("import ", "from ")):
                module = line.split()[1].split(".")[0]
                assert module not in ours, f"{path.name}: {line.strip()}"


def test_running_the_companion_as_a_script_loads_no_module_twice(tmp_path):
    # `python src/use_network.py` runs as __main__ and imports NN_Numpy by name: one copy each.
    code = (
        "import runpy, sys; sys.argv = ['use_network.py', '--help'];\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "files = [m.__file__ for m in list(sys.modules.values()) if getattr(m, '__file__', None)]\n"
        "print(*(sum(f.endswith(n) for f in files) for n in ('NN_Numpy.py', 'use_network.py')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT / "src"
    )
    assert out.stdout.split()[-2:] == ["1", "0"], out.stderr  # run_path's __main__ is no module
