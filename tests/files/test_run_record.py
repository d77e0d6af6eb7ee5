"""src/files/run_record.py: the run record inside a model, checked field by field."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import QUICK, RETRAIN, one_error_line

import NN_Numpy as nn
import use_network as un
from files import run_record


# This file's own model, in place of conftest.py's: 2 epochs, --hidden 32, as the record tests
# below expect (settings.hidden [32], two epochs of history)
@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small trained model with its run record, made by the command line."""
    path = tmp_path_factory.mktemp("model") / "model.npz"
    assert nn.main([*QUICK, "--hidden", "32", "--model", str(path)]) == 0
    return path


def with_record(model: Path, path: Path, change) -> Path:
    """A copy of `model` whose record (as JSON) is change(record)."""
    with np.load(model) as data:
        arrays = dict(data)
    record = json.loads(str(arrays["record"]))
    arrays["record"] = np.array(json.dumps(change(record)))
    np.savez(path, **arrays)
    return path


# Issue #21, item 1: the run record is checked once, where the model is read


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


# Issue #27: the hidden layers' activation, which the weights need, is read from the record


def test_the_activation_comes_from_the_record_and_is_never_guessed(model, tmp_path):
    sigmoid = with_record(model, tmp_path / "s.npz", put("settings", "activation", "sigmoid"))
    assert [layer.activation for layer in nn.NeuralNetwork.load(sigmoid).layers] == [
        "sigmoid",
        "identity",
    ]
    older = with_record(model, tmp_path / "old.npz", drop("settings", "activation"))
    assert nn.NeuralNetwork.load(older).layers[0].activation == "relu"  # saved before the option
    bad = with_record(model, tmp_path / "bad.npz", put("settings", "activation", "tanh"))
    with pytest.raises(nn.InputError) as info:
        nn.NeuralNetwork.load(bad)
    assert str(info.value) == (
        f'{bad} has an unusable settings.activation: "tanh" must be relu or sigmoid; {RETRAIN}'
    )
