"""Hostile inputs, round 2 (issue #21), the files/ side: run records, link loops, the names
file, class names, weights too large to use, sizes claimed by headers, CSV line numbers.

One group of tests per numbered item of the issue; each failed on the code before it.
"""

import dataclasses
import gzip
import io
import json
import os
import signal
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import write_csv

import NN_Numpy as nn
import use_network as un
from files import class_names, kaggle_csv, mnist_folders, outputs, paths, run_record

QUICK = ["--limit", "600", "--epochs", "2", "--no-plots"]
RETRAIN = "retrain the model: python src/NN_Numpy.py"
TRAIN_HEADER = ["label"] + kaggle_csv.PIXEL_COLUMNS


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small trained model with its run record, made by the command line."""
    path = tmp_path_factory.mktemp("model") / "model.npz"
    assert nn.main([*QUICK, "--hidden", "32", "--model", str(path)]) == 0
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def with_record(model: Path, path: Path, change) -> Path:
    """A copy of `model` whose record (as JSON) is change(record)."""
    with np.load(model) as data:
        arrays = dict(data)
    record = json.loads(str(arrays["record"]))
    arrays["record"] = np.array(json.dumps(change(record)))
    np.savez(path, **arrays)
    return path


@pytest.fixture
def within_seconds():
    """Fail a test that blocks (a FIFO opened for reading waits for a writer) instead of hanging."""

    def timeout(signum, frame):
        raise TimeoutError("blocked")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# 1. The run record is checked once, where the model is read ------------------------------


def test_a_trained_models_record_passes_whole(model):
    record = nn.NeuralNetwork.load(model).record
    assert record.problems == {}
    assert sorted(record) == [
        "command",
        "created",
        "data",
        "history",
        "metrics",
        "settings",
        "versions",
    ]
    assert run_record.require(record, "settings.limit", "to split") == 600
    assert run_record.require(record, "settings.hidden", "to split") == [32]
    assert len(run_record.require(record, "history", "to plot")) == 2


def test_the_schema_knows_every_training_setting():
    names = [setting.name for setting in dataclasses.fields(nn.TrainConfig)]
    assert list(run_record.SETTING_RULES) == names


def drop(section, key):
    def change(record):
        del record[section][key]
        return record

    return change


def put(section, key, value):
    def change(record):
        record[section][key] = value
        return record

    return change


def second_epoch_without_loss(record):
    del record["history"][1]["loss"]
    return record


@pytest.mark.parametrize(
    "change, key, problem",
    [
        (
            lambda r: None,
            "metrics.not_sure_threshold",
            "an unusable run record: null is not a JSON object",
        ),
        (
            lambda r: "hello",
            "settings.limit",
            'an unusable run record: "hello" is not a JSON object',
        ),
        (
            lambda r: {**r, "metrics": [1]},
            "metrics.accuracy",
            "an unusable metrics: [1] is not an object",
        ),
        (
            put("metrics", "not_sure_threshold", "0.9"),
            "metrics.not_sure_threshold",
            'an unusable metrics.not_sure_threshold: "0.9" is not a number',
        ),
        (
            put("metrics", "not_sure_threshold", -1),
            "metrics.not_sure_threshold",
            "an unusable metrics.not_sure_threshold: -1 is not >= 0",
        ),
        (second_epoch_without_loss, "history", "an unusable history: entry 2 has no loss"),
        (
            lambda r: {**r, "history": r["history"][:1]},
            "history",
            "an unusable history: its last epoch is 1, settings.epochs is 2",
        ),
        (
            put("settings", "limit", True),
            "settings.limit",
            "an unusable settings.limit: true is not a whole number",
        ),
        (
            put("settings", "seed", -1),
            "settings.seed",
            "an unusable settings.seed: -1 must be 0 to 2**32 - 1",
        ),
        (
            put("data", "classes", ["\x1b[2J"] + list("123456789")),
            "data.classes",
            "an unusable data.classes: entry 1: class name '\\x1b[2J' holds a control character "
            "(U+001B); names are plain text",
        ),
        (
            lambda r: {**r, "created": "\x1b[2J2026"},
            "created",
            'an unusable created: "\\u001b[2J2026" holds control characters',
        ),
        (
            put("data", "sha256", "abc"),
            "data.sha256",
            'an unusable data.sha256: "abc" is not a SHA-256 digest (64 hex digits)',
        ),
    ],
)
def test_a_broken_record_part_is_refused_by_the_commands_that_need_it(
    model, tmp_path, change, key, problem
):
    path = with_record(model, tmp_path / "m.npz", change)
    record = nn.NeuralNetwork.load(path).record  # the weights still load
    message = f"{path} has {problem}; {RETRAIN}"
    with pytest.raises(nn.InputError) as info:
        run_record.require(record, key, "to report")
    assert str(info.value) == message
    with pytest.raises(nn.InputError) as info:
        run_record.optional(record, key, 0.0)  # an unusable field is never replaced by a default
    assert str(info.value) == message


def test_a_missing_part_says_which_and_how_to_get_it_and_is_never_guessed(model, tmp_path):
    path = with_record(model, tmp_path / "m.npz", drop("settings", "limit"))
    record = nn.NeuralNetwork.load(path).record
    with pytest.raises(nn.InputError) as info:
        run_record.require(record, "settings.limit", "to rebuild the validation split")
    assert str(info.value) == (
        f"{path}'s run record has no settings.limit, needed to rebuild the validation split; "
        f"{RETRAIN}"
    )
    # a model saved before a field existed: commands that can do without it still work
    path = with_record(model, tmp_path / "old.npz", drop("metrics", "not_sure_threshold"))
    record = nn.NeuralNetwork.load(path).record
    assert run_record.optional(record, "metrics.not_sure_threshold", 0.0) == 0.0
    assert run_record.optional(record, "metrics.accuracy", 0.0) > 0.1


def test_the_parts_that_are_fine_stay_usable_and_unknown_fields_travel(model, tmp_path):
    def change(record):
        record["history"][0]["loss"] = "NaN"
        record["settings"]["future_setting"] = 3
        return record | {"note": "kept"}

    record = nn.NeuralNetwork.load(with_record(model, tmp_path / "m.npz", change)).record
    assert run_record.optional(record, "metrics.not_sure_threshold", None) >= 0
    assert record["note"] == "kept" and record["settings"]["future_setting"] == 3
    assert "history" not in record and "entry 1: loss:" not in record.problems["history"]
    assert record.problems == {"history": 'entry 1: "NaN" is not a number'}


def test_predict_with_a_broken_record_says_so_in_one_line(model, tmp_path, capsys):
    cases = {
        "null.npz": (lambda r: None, "an unusable run record: null is not a JSON object"),
        "text.npz": (
            put("metrics", "not_sure_threshold", "high"),
            'an unusable metrics.not_sure_threshold: "high" is not a number',
        ),
    }
    for name, (change, problem) in cases.items():
        path = with_record(model, tmp_path / name, change)
        assert un.main(["predict", str(tmp_path / "x.png"), "--model", str(path)]) == 1
        assert one_error_line(capsys) == f"error: {path} has {problem}; {RETRAIN}"


@pytest.mark.parametrize(
    "change, message",
    [
        (
            put("settings", "hidden", [128, 64]),
            "settings.hidden is [128, 64], the weights' hidden layers are [32]",
        ),
        (
            put("data", "classes", list("abcdefghijkl")),
            "data.classes names 12 classes, the weights give 10",
        ),
    ],
)
def test_a_record_from_another_run_is_refused_with_its_weights(
    model, tmp_path, capsys, change, message
):
    path = with_record(model, tmp_path / "m.npz", change)
    assert un.main(["predict", str(tmp_path / "x.png"), "--model", str(path)]) == 1
    assert one_error_line(capsys) == (
        f"error: {path} is not a valid model file: its run record is another run's: {message}; "
        f"{RETRAIN}"
    )


def test_a_record_that_is_not_json_or_not_text(model, tmp_path):
    with np.load(model) as data:
        arrays = dict(data)
    for name, record in {
        "bad.npz": np.array("{not json"),
        "deep.npz": np.array("[" * 100_000),
    }.items():
        np.savez(tmp_path / name, **{**arrays, "record": record})
        record = nn.NeuralNetwork.load(tmp_path / name).record
        assert record == {} and record.problems == {"": "it is not JSON text"}
    np.savez(tmp_path / "ints.npz", **{**arrays, "record": np.arange(3)})
    assert nn.NeuralNetwork.load(tmp_path / "ints.npz").record.problems == {
        "": "it is not JSON text"
    }


# 2. Symbolic link loops -------------------------------------------------------------------


def test_an_output_in_a_link_loop_is_one_line_and_nothing_is_written(model, tmp_path, capsys):
    (tmp_path / "loop").symlink_to("loop")
    out = tmp_path / "loop" / "s.csv"
    loop = f"{out}: a symbolic link loop (a link that leads back to itself); point it at a "
    loop += "real file or folder"
    assert un.main(["submit", "--model", str(model), "--out", str(out)]) == 1
    assert one_error_line(capsys) == f"error: {loop}"
    assert nn.main([*QUICK, "--model", str(out)]) == 1
    assert one_error_line(capsys) == f"error: {loop}"
    with pytest.raises(nn.InputError, match="a symbolic link loop"), outputs.atomic_write(out) as f:
        f.write(b"never")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop"]


def test_a_link_loop_beside_the_data_is_not_an_input(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv.gz").symlink_to(paths.BUNDLED_DATA_DIR / "train.csv.gz")
    (data / "notes.csv").symlink_to("notes.csv")  # read by no one
    argv = [*QUICK, "--data-dir", str(data), "--model", str(tmp_path / "m.npz")]
    assert nn.main(argv) == 0
    assert (tmp_path / "m.npz").is_file()


# 3. --classes FILE is read as every input is ---------------------------------------------


def test_a_names_file_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path, within_seconds):
    os.mkfifo(tmp_path / "fifo")
    for path in (tmp_path / "fifo", Path("/dev/zero"), tmp_path):
        with pytest.raises(nn.InputError) as info:
            class_names.class_names(str(path))
        assert str(info.value) == (
            f"--classes {path}: not digits, fashion or a readable file of names (a folder, "
            "pipe or device, not a regular file)"
        )


def test_a_large_names_file_is_refused_after_reading_4_kb(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(100 * 2**20)  # 100 MB, sparse
    tracemalloc.start()
    with pytest.raises(nn.InputError) as info:
        class_names.class_names(str(big))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value) == (
        f"--classes {big}: not digits, fashion or a readable file of names (over 4,096 bytes, "
        "more than 10 names of 30 characters)"
    )
    assert peak < 1e6, peak


# 4. Class names are text, drawn literally --------------------------------------------------


@pytest.mark.parametrize(
    "name, problem",
    [
        ("\x1b[2Jcat", "class name '\\x1b[2Jcat' holds a control character (U+001B)"),
        ("dog\u202egod", "class name 'dog\\u202egod' holds a control character (U+202E)"),
        ("bell\x07", "class name 'bell\\x07' holds a control character (U+0007)"),
    ],
)
def test_names_with_control_characters_are_refused(tmp_path, capsys, name, problem):
    names = [name] + [f"class {k}" for k in range(1, 10)]
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n")
    argv = [*QUICK, "--classes", str(tmp_path / "names.txt"), "--model", str(tmp_path / "m.npz")]
    assert nn.main(argv) == 1
    assert one_error_line(capsys) == (
        f"error: {tmp_path / 'names.txt'}, line 1: {problem}; names are plain text"
    )
    assert not (tmp_path / "m.npz").exists()


def test_a_name_like_math_is_drawn_letter_for_letter(tmp_path, capsys):
    # matplotlib reads text between two "$" as math: r"$\bad0$" crashed the figures with a
    # traceback after the model was saved. Every figure that shows a class name draws it as it is.
    names = [r"$\bad0$"] + [f"class {k}" for k in range(1, 10)]
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n")
    model, figures = tmp_path / "m.npz", tmp_path / "figures"
    train = ["--limit", "600", "--epochs", "2", "--classes", str(tmp_path / "names.txt")]
    assert nn.main([*train, "--model", str(model), "--figures-dir", str(figures)]) == 0
    assert un.main(["report", "--model", str(model), "--figures-dir", str(figures)]) == 0
    assert "confusion_matrix.png" in {path.name for path in figures.iterdir()}
    assert r"$\bad0$" in capsys.readouterr().out  # printed as it is, too


# 5. Weights whose outputs cannot be finite ------------------------------------------------


def save_weights(path: Path, value: float, dtype) -> Path:
    nn.NeuralNetwork([784, 10]).save(path)
    with np.load(path) as data:
        arrays = dict(data)
    arrays["weights_0"] = np.full((784, 10), value, dtype)
    np.savez(path, **arrays)
    return path


def test_weights_that_overflow_the_logits_are_refused_by_every_command(tmp_path, capsys):
    path = save_weights(tmp_path / "huge.npz", 3e38, np.float32)  # finite, but x @ W is not
    message = (
        f"{path} is not a valid model file: its weights are too large: layer 1 can output values "
        "up to 2.4e+41 for pixels in [0, 1], beyond float32's 3.4e+38, so its logits can be "
        f"infinite; {RETRAIN}"
    )
    for dtype in (np.float32, np.float64):
        with pytest.raises(nn.InputError) as info:
            nn.NeuralNetwork.load(path, dtype)
        assert str(info.value) == message
    assert un.main(["predict", str(tmp_path / "x.png"), "--model", str(path)]) == 1
    assert one_error_line(capsys) == f"error: {message}"


def test_gradcheck_refuses_a_model_every_other_command_refuses(tmp_path, capsys):
    path = save_weights(tmp_path / "m.npz", 1e300, np.float64)
    for argv in (["gradcheck", "--model", str(path)], ["predict", "x.png", "--model", str(path)]):
        assert un.main(argv) == 1
        assert one_error_line(capsys) == (
            f"error: {path} is not a valid model file: weights_0 holds NaN or infinite values "
            "(in float32)"
        )


# 6. Sizes claimed by headers are checked before anything is allocated --------------------


def npy_member(shape, descr="<f8", payload=b"\0" * 64) -> bytes:
    """A .npy file whose header claims `shape`, followed by `payload` only."""
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        f, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return f.getvalue() + payload


@pytest.mark.parametrize(
    "member, shape, descr, message",
    [
        (
            "weights_0",
            (784, 10),
            "<f8",
            "weights_0's header says float64 (784, 10) (62,848 bytes) but it holds 192 bytes",
        ),
        (
            "weights_0",
            (50_000, 40_000),
            "<f8",
            "weights_0's header says float64 (50000, 40000) (16,000,000,128 bytes) but it holds "
            "192 bytes",
        ),
        (
            "record",
            (),
            "<U100000000",
            "record's header says <U100000000 () (400,000,128 bytes) but it holds 192 bytes",
        ),
        (
            "layer_sizes",
            (2_000_000_000,),
            "<i8",
            "layer_sizes's header says int64 (2000000000,) (16,000,000,128 bytes) but it holds "
            "192 bytes",
        ),
    ],
)
def test_a_npy_header_claiming_more_than_its_member_holds_allocates_nothing(
    tmp_path, member, shape, descr, message
):
    nn.NeuralNetwork([784, 10]).save(tmp_path / "valid.npz")
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(tmp_path / "valid.npz") as valid, zipfile.ZipFile(path, "w") as out:
        for info in valid.infolist():
            data = valid.read(info)
            if info.filename == f"{member}.npy":
                data = npy_member(shape, descr)
            out.writestr(info.filename, data)
    tracemalloc.start()
    with pytest.raises(nn.InputError) as info:
        nn.NeuralNetwork.load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value) == f"{path} is not a valid model file: {message}"
    assert peak < 20e6, peak


def test_idx_images_beyond_the_memory_there_is_are_refused_from_the_header(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_folders, "available_memory", lambda: 4 * 2**30)  # a 4 GiB machine
    folder = tmp_path / "data"
    folder.mkdir()
    header = struct.pack(">4I", 0x803, 1_000_000, 28, 28)  # the documented maximum...
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header))  # ...claimed
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(struct.pack(">2I", 0x801, 1_000_000))
    )
    tracemalloc.start()
    with pytest.raises(nn.InputError) as info:
        mnist_folders.read_folder(folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value) == (
        f"{folder / 'train-images-idx3-ubyte.gz'}: its header says 1,000,000 images; training "
        "on them takes about 7.5 GiB of memory and 4.0 GiB is available; use a file of fewer "
        "images, or a machine with more memory"
    )
    assert peak < 5e6, peak  # sha256's 1 MiB chunks: nothing of the claimed 784 MB


def test_available_memory_is_known_on_linux():
    assert 0 < mnist_folders.available_memory() < 2**50


# 10. CSV line numbers count blank lines, in every path -----------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("extra_on", [2, 5])  # the first data row (a pandas warning), a later one
def test_an_extra_field_after_blank_lines_names_the_editors_line(tmp_path, newline, extra_on):
    row = ",".join(["3"] + ["0"] * 784)
    lines = [",".join(TRAIN_HEADER), "", "", row, row, row, row]
    lines.insert(
        extra_on + 1, row + ",7"
    )  # after the two blank lines: the file's line 2 + extra_on
    path = tmp_path / "train.csv"
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    with pytest.raises(nn.InputError) as info:
        kaggle_csv.read_digits_csv(path)
    problem = "expected 785 fields, found 786"
    if extra_on == 2:  # the first data row: pandas only warns, and says so in other words
        problem = "more fields than the header's columns"
    assert str(info.value) == f"{path}, line {extra_on + 2}: {problem}"


def test_a_bad_value_after_blank_lines_names_the_editors_line(tmp_path):
    path = write_csv(tmp_path / "train.csv", TRAIN_HEADER, [[3] + [0] * 784])
    row = ",".join(["3"] + ["0"] * 784)
    path.write_text(path.read_text() + "\n\n" + row + "\n" + row[:-1] + "x\n")
    with pytest.raises(nn.InputError) as info:
        kaggle_csv.read_digits_csv(path)
    assert str(info.value) == f"{path}, line 6, column 'pixel783': 'x' is not a number"
