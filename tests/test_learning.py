"""The learning path: the notebook runs, and the tools that show the math tell the truth."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import NN_Numpy as nn
import use_network as un

ROOT = Path(nn.__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "1.0-nn-from-scratch-tutorial.ipynb"


def test_tutorial_notebook_runs_every_cell(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # raises CellExecutionError, naming the cell, if any cell fails (its asserts included)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    text = "".join(
        out.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert "validation accuracy: " in text and "weights_0  relative error" in text


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
                hasattr(nn, name) or name in Path(nn.__file__).read_text() or hasattr(un, name)
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


@pytest.mark.parametrize(
    "module, expected",
    [
        ("NN_Numpy", {"NN_Numpy", "augment", "file_io"}),
        ("use_network", {"NN_Numpy", "use_network", "augment", "file_io"}),
    ],
)
def test_imports_run_one_way_and_load_each_module_once(module, expected):
    # The tutorial imports only augment (the distortions) and file_io (the careful file
    # handling) next door; the companion imports the tutorial; nothing imports the companion.
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r}); import {module}; "
        f"print(sorted(name for name, m in sys.modules.items() "
        f"if getattr(m, '__file__', None) and {str(ROOT / 'src')!r} in m.__file__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(sorted(expected))


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
