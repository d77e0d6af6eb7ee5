"""The learning path: the notebook runs, and the tools that show the math tell the truth."""

import re
import sys
from pathlib import Path

import nbformat

import NN_Numpy as nn
import use_network as un
from using import math_checks

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
