"""NN_Numpy.py's command line end to end, as a user runs it."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import READ_DIGITS_CSV, SRC

import NN_Numpy as nn
from files import safe_reading, training_data

SCRIPT = Path(nn.__file__)


def run(*args, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_quick_training_run_writes_model_and_figures(tmp_path, small_split):
    model = tmp_path / "model.npz"
    figures = tmp_path / "figures"
    # from another working directory: paths resolve from the script's location
    result = run(
        "--limit", 3000, "--epochs", 3, "--model", model, "--figures-dir", figures, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "Data: data/external/mnist/train.csv.gz (bundled MNIST copy), 42,000 rows"
    )
    assert [line.split(",")[0] for line in lines if line.startswith("Epoch")] == [
        "Epoch 1/3",
        "Epoch 2/3",
        "Epoch 3/3",
    ]
    accuracy_line = next(line for line in lines if line.startswith("Validation Accuracy: "))
    assert float(accuracy_line.split()[-1].rstrip("%")) > 80  # 3 epochs, and non-digits too
    assert sorted(p.name for p in figures.iterdir()) == ["predictions.png", "training_curves.png"]
    for name in ["predictions.png", "training_curves.png"]:
        assert (figures / name).stat().st_size > 10_000, name
    assert nn.NeuralNetwork.load(model).record["settings"]["epochs"] == 3  # the run record, inside

    # the saved model is the trained one, and a second run with the same seed repeats it exactly
    loaded = nn.NeuralNetwork.load(model)
    assert loaded.layer_sizes == [784, 128, 64, 10]
    again = run("--limit", 3000, "--epochs", 3, "--model", tmp_path / "again.npz", "--no-plots")

    def numbers(output):
        return [
            line.split(", Time:")[0]
            for line in output.splitlines()
            if line.startswith(("Epoch", "Validation"))
        ]

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
    assert result.stderr.startswith(
        f"error: {tmp_path}/train.csv, line 1: wrong header for a training file"
    )
    assert "Traceback" not in result.stderr
    assert model.read_bytes() == before


def test_divergence_exits_1_and_saves_nothing(tmp_path):
    model = tmp_path / "model.npz"
    result = run("--limit", 1000, "--epochs", 2, "--lr", 1e5, "--model", model, "--no-plots")
    assert result.returncode == 1
    assert re.search(
        r"^error: the training loss became (nan|inf) in epoch 1, batch \d+; try a smaller learning "
        r"rate \(--learning-rate 10000\)\. No model was saved\.$",
        result.stderr,
        re.M,
    ), result.stderr
    assert not model.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "-1"], "--learning-rate must be > 0, got -1.0"),
        (["--learning-rate", "nan"], "--learning-rate must be > 0, got nan"),
        (["--learning-rate", "inf"], "--learning-rate must be > 0, got inf"),
        (["--seed", "-1"], "--seed must be 0 to 2**32 - 1, got -1"),
        (["--seed", "-1", "--train-on-all"], "--seed must be 0 to 2**32 - 1, got -1"),
        (["--hidden", "1000000"], "--hidden sizes must be 1-10000, got (1000000,)"),
        (["--momentum", "1"], "--momentum must be in [0, 1), got 1.0"),
        (["--momentum", "-0.1"], "--momentum must be in [0, 1), got -0.1"),
        (["--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
        (["--weight-decay", "-0.0001"], "--weight-decay must be >= 0, got -0.0001"),
        (["--shift", "28"], "--shift must be 0-27 pixels (the image is 28 pixels wide), got 28"),
        (["--val-fraction", "0"], "--val-fraction must be in (0, 1), got 0.0"),
        (["--hidden", "128", "0"], "--hidden sizes must be 1-10000, got (128, 0)"),
        (["--limit", "0"], "--limit must be >= 1, got 0"),
        (
            ["--optimizer", "rmsprop"],
            "argument --optimizer: invalid choice: 'rmsprop' (choose from 'sgd', 'adam')",
        ),
    ],
)
def test_bad_options_are_refused_before_anything_runs(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        nn.main(args)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"NN_Numpy.py: error: {message}"


def test_bad_option_from_the_shell_exits_2():
    result = run("--shift", "40")
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[-1]
        == "NN_Numpy.py: error: --shift must be 0-27 pixels (the image is 28 pixels wide), got 40"
    )


def test_too_few_rows_for_a_stratified_split():
    result = run("--limit", 5, "--no-plots")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot split 5 rows into training and validation (")
    assert result.stderr.rstrip().endswith("use more rows (--limit) or another --val-fraction")


def test_help_documents_every_option():
    result = run("--help")
    entries = {
        entry.split()[0].rstrip(","): " ".join(entry.split())
        for entry in result.stdout.split("\n  -")[1:]
    }
    # every TrainConfig field is an option of the same name, with its help and its default
    for setting in nn.fields(nn.TrainConfig):
        entry = entries["-" + setting.name.replace("_", "-")]
        assert " ".join(setting.metadata["help"].split()) in entry, entry
        assert entry.endswith(f"(default: {setting.default})"), entry
    assert entries["-learning-rate"].startswith("-learning-rate LEARNING_RATE, --lr LEARNING_RATE")
    for option in ["--data-dir", "--model", "--figures-dir", "--no-plots"]:
        assert option[1:] in entries


def test_unwritable_model_folder_is_an_error_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the model's folder should be")
    status = nn.main(
        ["--limit", "500", "--epochs", "1", "--no-plots", "--model", str(blocker / "m.npz")]
    )
    assert status == 1
    assert (
        capsys.readouterr().err
        == f"error: cannot write {blocker / 'm.npz'}: File exists; choose another place\n"
    )


def test_ctrl_c_during_training_saves_nothing(tmp_path, monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(nn.SGD, "step", interrupt)
    model = tmp_path / "m.npz"
    assert nn.main(["--limit", "500", "--epochs", "1", "--no-plots", "--model", str(model)]) == 130
    assert capsys.readouterr().err.endswith(
        "interrupted: nothing was saved from the unfinished step\n"
    )
    assert not model.exists()


def test_ctrl_c_while_the_data_is_read_is_ctrl_c_not_a_bad_file(tmp_path, monkeypatch, capsys):
    # Python's own Ctrl-C handler raises from C, in a form pandas' CSV parser lost during its
    # reads: "train.csv.gz could not be parsed as numbers", exit 1, after 12 s reading it again
    reads, readinto = 0, safe_reading.BoundedRaw.readinto

    def read_then_ctrl_c(self, buffer):
        nonlocal reads
        reads += 1
        if reads == 20:  # within pandas' read of the CSV (each read a chunk of it)
            signal.raise_signal(signal.SIGINT)  # to the handler report_errors has set
        return readinto(self, buffer)

    monkeypatch.setattr(safe_reading.BoundedRaw, "readinto", read_then_ctrl_c)
    # the real reader, not conftest's parsed-once rows: this test is about the read itself
    monkeypatch.setattr(training_data, "read_digits_csv", READ_DIGITS_CSV)
    model = tmp_path / "m.npz"
    assert nn.main(["--epochs", "1", "--no-plots", "--model", str(model)]) == 130
    assert reads == 20  # not read again
    assert capsys.readouterr().err == "\ninterrupted: nothing was saved from the unfinished step\n"
    assert not model.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_a_missing_package_does_not_cost_the_trained_model(tmp_path, monkeypatch, capsys):
    from importlib import metadata

    version = metadata.version

    def no_pillow(name):
        if name == "pillow":
            raise metadata.PackageNotFoundError(name)
        return version(name)

    monkeypatch.setattr(metadata, "version", no_pillow)
    model = tmp_path / "m.npz"
    assert nn.main(["--limit", "500", "--epochs", "1", "--no-plots", "--model", str(model)]) == 0
    versions = nn.NeuralNetwork.load(model).record["versions"]
    assert versions["pillow"] is None and versions["numpy"] == np.__version__


# Issue #12, item 10: smaller things


def test_sigterm_is_ctrl_c_and_a_killed_runs_temp_file_is_removed_next_time(model, tmp_path):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    stale = tmp_path / ".m.npz.999999999.abcd.tmp"  # a killed run's: no process has that id
    stale.write_bytes(b"half a model")
    process = subprocess.Popen(
        [
            sys.executable,
            str(SRC / "NN_Numpy.py"),
            "--limit",
            "3000",
            "--no-plots",
            "--model",
            str(copy),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().startswith("Data: ")
    while not process.stdout.readline().startswith("Epoch 1/"):
        pass
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err.endswith(
        "interrupted: nothing was saved from the unfinished step\n"
    )
    assert copy.read_bytes() == model.read_bytes()
    nn.NeuralNetwork.load(copy).save(copy)  # the next write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


@pytest.mark.parametrize("output", ["--model", "--figures-dir"])
def test_the_classes_file_is_an_input_no_output_may_overwrite(tmp_path, capsys, output):
    # Issue #29, item 10: --model names.txt once replaced the --classes file by the model
    names = tmp_path / ("predictions.png" if output == "--figures-dir" else "names.txt")
    names.write_text("\n".join(f"class {n}" for n in range(10)) + "\n")
    before = names.read_bytes()
    target = tmp_path if output == "--figures-dir" else names
    argv = ["--epochs", "1", "--limit", "600", "--classes", str(names), output, str(target)]
    if output == "--figures-dir":
        argv += ["--model", str(tmp_path / "m.npz")]
    assert nn.main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"error: {names} is also read by this run; write the output elsewhere\n"
    assert names.read_bytes() == before
