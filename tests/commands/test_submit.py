"""python src/use_network.py submit: the Kaggle submission for test.csv."""

import numpy as np
import pandas as pd

import NN_Numpy as nn
import use_network as un
from files import kaggle_csv, paths


def test_submission_for_the_bundled_test_file(model_path, tmp_path, capsys):
    out = tmp_path / "submission.csv"
    assert un.main(["submit", "--model", str(model_path), "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0] == "ImageId,Label"
    submission = pd.read_csv(out)
    assert len(submission) == 28000
    assert submission["ImageId"].tolist() == list(range(1, 28001))
    assert submission["Label"].dtype.kind == "i" and submission["Label"].between(0, 9).all()
    test_pixels, _ = kaggle_csv.read_digits_csv(
        paths.BUNDLED_DATA_DIR / "test.csv.gz", labelled=False
    )
    expected = (
        nn.NeuralNetwork.load(model_path).predict_proba(nn.normalize(test_pixels)).argmax(axis=1)
    )
    np.testing.assert_array_equal(submission["Label"].to_numpy(), expected)
    assert "Checked: header ImageId,Label, ImageId 1..28000, labels 0-9" in capsys.readouterr().out


def test_submission_refuses_a_training_file_as_test_file(model_path, tmp_path, capsys):
    out = tmp_path / "submission.csv"
    assert (
        un.main(
            [
                "submit",
                "--model",
                str(model_path),
                "--test",
                str(paths.BUNDLED_DATA_DIR / "train.csv.gz"),
                "--out",
                str(out),
            ]
        )
        == 1
    )
    assert "wrong header for a test file" in capsys.readouterr().err
    assert not out.exists()
