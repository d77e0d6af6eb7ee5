"""python src/use_network.py report: the figures and the run record of a model."""

import hashlib
import re
from dataclasses import asdict

from conftest import one_error_line

import NN_Numpy as nn
import use_network as un
from files import paths


def test_training_saves_its_run_record_inside_the_model_and_report_redraws_everything(
    tmp_path, capsys
):
    model, figures = tmp_path / "m.npz", tmp_path / "figures"
    argv = [
        "--limit",
        "1000",
        "--epochs",
        "2",
        "--model",
        str(model),
        "--figures-dir",
        str(figures),
    ]
    assert nn.main(argv) == 0
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [
        "m.npz"
    ]  # one file: model and record
    record = nn.NeuralNetwork.load(model).record
    assert set(record) == {
        "created",
        "command",
        "settings",
        "data",
        "versions",
        "history",
        "metrics",
    }
    with open(paths.BUNDLED_DATA_DIR / "train.csv.gz", "rb") as f:
        assert record["data"]["sha256"] == hashlib.file_digest(f, "sha256").hexdigest()
    assert set(record["versions"]) == {
        "python",
        "numpy",
        "pandas",
        "scikit-learn",
        "matplotlib",
        "pillow",
    }
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    assert set(record["history"][0]) == {
        "epoch",
        "loss",
        "learning_rate",
        "val_loss",
        "val_accuracy",
        "seconds",
    }
    assert record["settings"] == {
        **asdict(nn.TrainConfig(limit=1000, epochs=2)),
        "hidden": [128, 64],
    }
    assert record["command"] == ["python", "src/NN_Numpy.py", *argv]
    assert (
        record["metrics"]["accuracy"] == record["history"][-1]["val_accuracy"]
    )  # the last epoch's weights
    capsys.readouterr()

    assert un.main(["report", "--model", str(model), "--figures-dir", str(figures)]) == 0
    out = capsys.readouterr().out
    assert f"Accuracy on 200 validation digits: {100 * record['metrics']['accuracy']:.2f}%" in out
    assert "precision    recall  f1-score   support" in out
    names = [
        "predictions.png",
        "confusion_matrix.png",
        "confident_mistakes.png",
        "first_layer_weights.png",
        "training_curves.png",
        "calibration.png",
        "mistake_heat_maps.png",
        "answers.png",
        "robustness.png",
        "points_map.png",
    ]
    assert sorted(p.name for p in figures.iterdir()) == sorted(names)
    not_a_digit = record["metrics"]["not_a_digit_threshold"]
    assert re.search(
        rf"^Not a digit below {not_a_digit:.4f}: of 1,000 made-up non-digits, \d+\.\d% called "
        r"'not a digit', \d+\.\d% answered with a digit$",
        out,
        re.M,
    )
    threshold = record["metrics"]["not_sure_threshold"]
    assert re.search(
        rf"^Not sure below {threshold:.4f}: answers \d+\.\d% of the validation digits, "
        r"\d+\.\d\d% of them right$",
        out,
        re.M,
    )
    for name in names:
        assert (figures / name).stat().st_size > 10_000, name


def test_report_of_a_model_without_a_run_record(model_path, capsys):
    assert un.main(["report", "--model", str(model_path)]) == 1
    assert capsys.readouterr().err == (
        f"error: {model_path}'s run record has no settings.limit, needed to rebuild the "
        "validation split; retrain the model: python src/NN_Numpy.py\n"
    )


def test_train_on_all_has_no_validation_split_and_report_says_so(tmp_path, capsys):
    model = tmp_path / "final.npz"
    assert (
        nn.main(
            [
                "--train-on-all",
                "--limit",
                "300",
                "--epochs",
                "3",
                "--no-plots",
                "--model",
                str(model),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Training on all 300 rows (--train-on-all: no validation split)" in out
    assert re.search(r"^Training Accuracy: \d+\.\d\d% \(no validation split\)$", out, re.M)
    assert "Epoch 3/3, Loss: " in out and "Val Loss" not in out
    record = nn.NeuralNetwork.load(model).record
    assert (
        record["metrics"]["evaluated_on"] == "training"
        and record["settings"]["train_on_all"] is True
    )
    assert un.main(["report", "--model", str(model), "--figures-dir", str(tmp_path / "fig")]) == 0
    assert "Accuracy on 300 training digits" in capsys.readouterr().out


def test_report_with_a_record_missing_a_key(model, tmp_path, capsys):
    network = nn.NeuralNetwork.load(model)
    del network.record["history"]
    network.save(tmp_path / "m.npz")
    assert (
        un.main(["report", "--model", str(tmp_path / "m.npz"), "--figures-dir", str(tmp_path)]) == 1
    )
    assert one_error_line(capsys).endswith(
        "m.npz's run record has no history, needed for the training curves; "
        "retrain the model: python src/NN_Numpy.py"
    )
