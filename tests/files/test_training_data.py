"""src/files/training_data.py: a training run's labelled rows, refused when degenerate."""

import pytest
from conftest import TRAIN_HEADER, one_error_line, write_csv

import NN_Numpy as nn


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            [[4] + [d] * 784 for d in range(40)],
            "every row has the same label; nothing to tell apart",
        ),
        (
            [[d % 10] + [d % 2] * 784 for d in range(40)],
            "every pixel is 0 or 1 (binarised?); expected 0-255",
        ),
    ],
)
def test_degenerate_data_is_refused(tmp_path, capsys, rows, message):
    write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows)
    assert (
        nn.main(["--data-dir", str(tmp_path), "--no-plots", "--model", str(tmp_path / "m.npz")])
        == 1
    )
    assert one_error_line(capsys).endswith(f"train.csv: {message}")
