"""src/using/digit_model.py: a digit model loaded, its verdict, test-time augmentation."""

import pytest
from conftest import one_error_line

import NN_Numpy as nn
import use_network as un


@pytest.mark.parametrize("sizes", [[5, 10], [784, 3]])
def test_gradcheck_and_report_refuse_a_model_of_other_sizes(tmp_path, capsys, sizes):
    nn.NeuralNetwork(sizes).save(tmp_path / "m.npz")
    for command in ("gradcheck", "report", "predict"):
        argv = [command, "--model", str(tmp_path / "m.npz")] + (
            ["x.png"] if command == "predict" else []
        )
        assert un.main(argv) == 1
        assert (
            f"maps {sizes[0]} inputs to {sizes[1]} outputs; a digit model maps 784 to 10"
            in one_error_line(capsys)
        )
