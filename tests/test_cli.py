"""The command line end to end, as a user runs it."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import NN_Numpy as nn

SCRIPT = Path(nn.__file__)


def run(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def test_quick_training_run_writes_model_and_figures(tmp_path, small_split):
    model = tmp_path / "model.npz"
    figures = tmp_path / "figures"
    # from another working directory: paths resolve from the script's location
    result = run("--limit", 3000, "--epochs", 3, "--model", model, "--figures-dir", figures, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Data: data/external/mnist/train.csv.gz (bundled MNIST copy), 42,000 rows")
    assert [line.split(",")[0] for line in lines if line.startswith("Epoch")] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    accuracy_line = next(line for line in lines if line.startswith("Validation Accuracy: "))
    assert float(accuracy_line.split()[-1].rstrip("%")) > 85
    assert (figures / "predictions.png").stat().st_size > 10_000
    assert (figures / "training_curves.png").stat().st_size > 10_000

    # the saved model is the trained one, and a second run with the same seed repeats it exactly
    loaded = nn.NeuralNetwork.load(model)
    assert loaded.layer_sizes == [784, 128, 64, 10]
    again = run("--limit", 3000, "--epochs", 3, "--model", tmp_path / "again.npz", "--no-plots")

    def numbers(output):
        return [line.split(", Time:")[0] for line in output.splitlines() if line.startswith(("Epoch", "Validation"))]

    assert numbers(again.stdout) == numbers(result.stdout)
    for layer, other in zip(loaded.layers, nn.NeuralNetwork.load(tmp_path / "again.npz").layers):
        np.testing.assert_array_equal(layer.weights, other.weights)


def test_bad_data_file_exits_1_with_the_message_and_keeps_the_old_model(tmp_path):
    model = tmp_path / "model.npz"
    nn.NeuralNetwork(seed=5).save(model)
    before = model.read_bytes()
    (tmp_path / "train.csv").write_text("label,pixel0\n1,2\n")
    result = run("--data-dir", tmp_path, "--model", model)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {tmp_path}/train.csv, line 1: wrong header for a training file")
    assert "Traceback" not in result.stderr
    assert model.read_bytes() == before


def test_divergence_exits_1_and_saves_nothing(tmp_path):
    model = tmp_path / "model.npz"
    result = run("--limit", 1000, "--epochs", 2, "--lr", 1e5, "--model", model, "--no-plots")
    assert result.returncode == 1
    assert "error: the training loss became nan in epoch 1; try a smaller learning rate (--lr 10000). No model was saved." in result.stderr
    assert not model.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "-1"], "argument --lr: must be a number > 0, got -1"),
        (["--momentum", "1"], "argument --momentum: must be in [0, 1), got 1"),
        (["--epochs", "0"], "argument --epochs: must be a whole number >= 1, got 0"),
        (["--val-fraction", "0"], "argument --val-fraction: must be in (0, 1), got 0"),
        (["--activation", "tanh"], "argument --activation: invalid choice: 'tanh'"),
    ],
)
def test_bad_options_are_refused(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_too_few_rows_for_a_stratified_split():
    result = run("--limit", 5, "--no-plots")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot split 5 rows into training and validation:")


def test_help_documents_every_option():
    result = run("--help")
    for option in ["--epochs", "--batch-size", "--lr", "--momentum", "--hidden", "--activation", "--seed",
                   "--val-fraction", "--data-dir", "--no-plots", "--limit"]:
        assert option in result.stdout
    assert "(default: 100)" in result.stdout
