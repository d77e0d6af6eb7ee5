"""The run record saved beside the weights: made at the end of a run (run_record), and checked
field by field when a model is read (check_record), with the training settings' rules
(SETTING_RULES) that the command line checks too. It reads and writes no file itself.

read_model returns a Record: every field below has its type and range, or is absent. Fields
it does not know are kept as they are, unchecked, for no command reads them. A field that
is there but wrong is dropped, and the reason kept, so a command that needs it can say what
is wrong (see require, optional); one that does not need it still runs. A record that
contradicts its own weights (hidden sizes, number of classes) is another run's: the model is
refused.
"""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from importlib import metadata

import numpy as np

from files.class_names import HIDDEN_CATEGORIES, name_problem
from files.errors import InputError, ModelError

RETRAIN = "retrain the model: python src/NN_Numpy.py"

ABSENT = object()  # what optional gives require for a field that is not there


class Unusable(ValueError):
    """Why a value of a run record cannot be used."""


class Record(dict):
    """A checked run record: .model names the file, .problems holds {field: why it was
    dropped}, "" for the record itself."""

    def __init__(self, fields: dict, model, problems: dict) -> None:
        super().__init__(fields)
        self.model, self.problems = model, problems


def require(record: dict, key: str, why: str) -> object:
    """record's field `key` ("settings.limit"), or an InputError saying it is missing or
    unusable, why the command needs it, and how to get one."""
    value = optional(record, key, ABSENT)
    if value is ABSENT:
        model = getattr(record, "model", "the model")
        raise InputError(f"{model}'s run record has no {key}, needed {why}; {RETRAIN}")
    return value


def optional(record: dict, key: str, default):
    """record's field `key`, or `default` if a model saved before the field existed lacks it;
    an InputError if the field was there but unusable: a broken record is never guessed at."""
    problems, model = getattr(record, "problems", {}), getattr(record, "model", "the model")
    parts = key.split(".")
    for prefix in (".".join(parts[:n]) for n in range(len(parts) + 1)):
        if prefix in problems:
            what = f"an unusable {prefix}" if prefix else "an unusable run record"
            raise InputError(f"{model} has {what}: {problems[prefix]}; {RETRAIN}")
    value = record
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def shown(value) -> str:
    """A value for a message: short, one line, control characters escaped."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def number(ok, rule: str):
    def check(value) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Unusable(f"{shown(value)} is not a number")
        if not ok(value):
            raise Unusable(f"{shown(value)} is not {rule}")
        return float(value)

    return check


def whole(low: int, high: float = float("inf")):
    def check(value) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Unusable(f"{shown(value)} is not a whole number")
        if not low <= value <= high:
            rule = f">= {low}" if high == float("inf") else f"{low}-{high}"
            raise Unusable(f"{value} is not {rule}")
        return value

    return check


def one_of(*choices: str):
    def check(value) -> str:
        if value not in choices or not isinstance(value, str):
            raise Unusable(f"{shown(value)} is not one of {', '.join(choices)}")
        return value

    return check


def text(value) -> str:
    """Text printed as it is: no control characters (an escape sequence clears a terminal)."""
    if not isinstance(value, str):
        raise Unusable(f"{shown(value)} is not text")
    if any(unicodedata.category(c) in HIDDEN_CATEGORIES for c in value):
        raise Unusable(f"{shown(value)} holds control characters")
    return value


def boolean(value) -> bool:
    if not isinstance(value, bool):
        raise Unusable(f"{shown(value)} is not true or false")
    return value


def nullable(check):
    return lambda value: None if value is None else check(value)


def list_of(check, at_least: int = 0):
    def check_list(value) -> list:
        if not isinstance(value, list):
            raise Unusable(f"{shown(value)} is not a list")
        if len(value) < at_least:
            raise Unusable(f"{len(value)} entries, fewer than {at_least}")
        checked = []
        for i, item in enumerate(value, 1):
            try:
                checked.append(check(item))
            except Unusable as problem:
                raise Unusable(f"entry {i}: {problem}") from None
        return checked

    return check_list


def names(value) -> list[str]:
    """A model's class names: distinct, each a caption (see name_problem)."""
    value = list_of(lambda name: name, 1)(value)
    for i, name in enumerate(value, 1):
        if problem := name_problem(name):
            raise Unusable(f"entry {i}: {problem}")
    if len(set(value)) != len(value):
        raise Unusable("two classes have the same name")
    return value


def digest(value) -> str:
    if not isinstance(value, str) or not re.fullmatch("[0-9a-f]{64}", value):
        raise Unusable(f"{shown(value)} is not a SHA-256 digest (64 hex digits)")
    return value


def versions(value) -> dict:
    """{package: version}, both text; None for a package that was not installed."""
    if not isinstance(value, dict):
        raise Unusable(f"{shown(value)} is not an object")
    return {text(package): nullable(text)(version) for package, version in value.items()}


SHARE = number(lambda v: 0 <= v <= 1, "in [0, 1]")

POSITIVE = number(lambda v: 0 <= v < float("inf"), ">= 0 and finite")

# The training settings' rules, one table for both places that check them: the command line
# (check_settings: "--momentum must be in [0, 1), got 1.0") and a saved run record
# (SETTINGS: "an unusable settings.momentum: 1.0 must be in [0, 1)"). Its names are
# NN_Numpy.TrainConfig's fields, in order (tests/files/test_run_record.py checks that).
# name -> (the JSON type a record holds it as, is it in range, the rule in words)
SETTING_RULES = {
    "epochs": (int, lambda v: v >= 1, "must be >= 1"),
    "batch_size": (int, lambda v: v >= 1, "must be >= 1"),
    "optimizer": (str, lambda v: v in ("sgd", "adam"), "must be 'sgd' or 'adam'"),
    "learning_rate": (float, lambda v: 0 < v < np.inf, "must be > 0"),
    "momentum": (float, lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "schedule": (str, lambda v: v in ("cosine", "constant"), "must be cosine or constant"),
    "weight_decay": (float, lambda v: 0 <= v < np.inf, "must be >= 0"),
    "shift": (int, lambda v: 0 <= v < 28, "must be 0-27 pixels (the image is 28 pixels wide)"),
    "affine": (float, lambda v: 0 <= v <= 10, "must be 0-10"),
    "elastic": (float, lambda v: 0 <= v <= 10, "must be 0-10"),
    "negatives": (float, lambda v: 0 <= v <= 1, "must be 0-1 (a share of the rows)"),
    "styles": (float, lambda v: 0 <= v <= 1, "must be 0-1 (a share of the rows)"),
    "deskew": (bool, lambda v: True, ""),
    "hidden": (list, lambda v: all(1 <= n <= 10_000 for n in v), "sizes must be 1-10000"),
    "activation": (str, lambda v: v in ("relu", "sigmoid"), "must be relu or sigmoid"),
    "init": (str, lambda v: v in ("he", "zero"), "must be he or zero"),
    "val_fraction": (float, lambda v: 0 < v < 1, "must be in (0, 1)"),
    "train_on_all": (bool, lambda v: True, ""),
    "limit": (int, lambda v: v is None or v >= 1, "must be >= 1"),  # None: every row
    "seed": (int, lambda v: 0 <= v < 2**32, "must be 0 to 2**32 - 1"),
}


def recorded_setting(json_type, in_range, rule: str):
    """A record check for one setting of SETTING_RULES: its JSON type, then its range."""
    type_check = {
        int: whole(-(2**63)),
        float: number(lambda v: True, ""),
        str: text,
        bool: boolean,
        list: list_of(whole(-(2**63))),
    }[json_type]

    def check(value):
        value = type_check(value)
        if not in_range(value):
            raise Unusable(f"{shown(value)} {rule}")
        return value

    return check


SETTINGS = {name: recorded_setting(*rules) for name, rules in SETTING_RULES.items()}

SETTINGS["limit"] = nullable(SETTINGS["limit"])  # null: every row was used

DATA = {
    "path": text,
    "sha256": digest,
    "rows": whole(1),
    "classes": names,
}

METRICS = {
    "evaluated_on": one_of("training", "validation"),
    "accuracy": SHARE,
    "loss": POSITIVE,
    "seconds": POSITIVE,
    # above 1 (inf: no threshold reached the target accuracy): never sure
    "not_sure_threshold": number(lambda v: v >= 0, ">= 0"),
    # issue #20 ("not a digit" below it; a model saved before has none), and what a model
    # answers to 1,000 made-up non-digits: the share below it, the share answered with a digit
    "not_a_digit_threshold": number(lambda v: v >= 0, ">= 0"),
    "negatives_not_a_digit": SHARE,
    "negatives_answered": SHARE,
    "test_accuracy": SHARE,
}

EPOCH = {  # one entry of the history; the first two are always there
    "epoch": whole(1),
    "loss": POSITIVE,
    "learning_rate": POSITIVE,
    "seconds": POSITIVE,
    "val_loss": POSITIVE,
    "val_accuracy": SHARE,
}


def fields_of(schema: dict):
    """A checker of a JSON object: each known field checked, unknown ones kept as they are."""

    def check(value) -> dict:
        if not isinstance(value, dict):
            raise Unusable(f"{shown(value)} is not an object")
        return value | {key: schema[key](value[key]) for key in schema.keys() & value.keys()}

    return check


def history(value) -> list[dict]:
    """The history: one entry per epoch, 1, 2, ..., each with its loss; validation figures in
    every entry or in none."""
    entries = list_of(fields_of(EPOCH), 1)(value)
    validation = [entry.keys() & {"val_loss", "val_accuracy"} for entry in entries]
    for i, entry in enumerate(entries, 1):
        for key in ("epoch", "loss"):
            if key not in entry:
                raise Unusable(f"entry {i} has no {key}")
        if entry["epoch"] != i:
            raise Unusable(f"entry {i} is for epoch {entry['epoch']}")
        if validation[i - 1] != validation[0]:
            raise Unusable(f"entry {i} has other validation figures than entry 1")
    return entries


RECORD = {
    "created": text,
    "command": list_of(text, 1),
    "settings": SETTINGS,
    "data": DATA,
    "versions": versions,
    "history": history,
    "metrics": METRICS,
}


def check_record(record_text: str | None, sizes: list[int], model) -> Record:
    """The run record, as JSON text, checked against RECORD (see above): a section (settings,
    data, metrics) field by field, anything else as a whole. ModelError if it describes
    other weights than `sizes`."""
    try:
        record = json.loads(record_text)
    except (TypeError, ValueError, RecursionError):  # no text, not JSON, nested too deep
        return Record({}, model, {"": "it is not JSON text"})
    if not isinstance(record, dict):
        return Record({}, model, {"": f"{shown(record)} is not a JSON object"})
    fields, problems = dict(record), {}
    for key, schema in RECORD.items():
        if key not in record:
            continue
        if callable(schema):  # checked as a whole
            check_field(schema, fields, key, problems, key)
        elif not isinstance(record[key], dict):
            problems[key] = f"{shown(fields.pop(key))} is not an object"
        else:  # a section, field by field
            for name in schema.keys() & record[key].keys():
                check_field(schema[name], fields[key], name, problems, f"{key}.{name}")
    check_against_weights(fields, sizes)
    epochs = fields.get("settings", {}).get("epochs")
    if "history" in fields and epochs is not None:
        last = len(fields["history"])
        # a run stopped early (the live page's stop button) has fewer epochs, never more
        short_but_stopped = last < epochs and "stopped_early" in fields
        if last != epochs and not short_but_stopped:
            fields.pop("history")
            problems["history"] = f"its last epoch is {last}, settings.epochs is {epochs}"
    return Record(fields, model, problems)


def check_field(check, fields: dict, name: str, problems: dict, key: str) -> None:
    """fields[name] checked (and made float where a number is expected); dropped, and
    problems[key] saying why, if it is unusable."""
    try:
        fields[name] = check(fields[name])
    except Unusable as problem:
        problems[key] = str(problem)
        del fields[name]


def check_against_weights(fields: dict, sizes: list[int]) -> None:
    """A record whose hidden sizes or classes disagree with the weights is another run's."""
    hidden = fields.get("settings", {}).get("hidden")
    if hidden is not None and hidden != sizes[1:-1]:
        raise ModelError(
            f"its run record is another run's: settings.hidden is {hidden}, the weights' hidden "
            f"layers are {sizes[1:-1]}; {RETRAIN}"
        )
    classes = fields.get("data", {}).get("classes")
    if classes is not None and len(classes) != sizes[-1]:
        raise ModelError(
            f"its run record is another run's: data.classes names {len(classes)} classes, the "
            f"weights give {sizes[-1]}; {RETRAIN}"
        )


def hidden_activation(record: Record) -> str:
    """The activation of a model's hidden layers (settings.activation), which its weights need
    to give their answers: relu for a model saved before the setting existed, or with no
    usable record at all (every model then was ReLU). A setting that is there but unusable is
    an InputError: the weights are never run through a guessed activation."""
    for key in ("settings", "settings.activation"):
        if key in record.problems:
            raise InputError(
                f"{record.model} has an unusable {key}: {record.problems[key]}; {RETRAIN}"
            )
    return record.get("settings", {}).get("activation", "relu")


RECORD_PACKAGES = ["numpy", "pandas", "scikit-learn", "matplotlib", "pillow"]


def package_versions() -> dict:
    """Python's version and each run-time package's, for the run record; None for a package
    that is not installed. Read before training: the record never costs a trained model."""
    versions = {"python": sys.version.split()[0]}
    for name in RECORD_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except (metadata.PackageNotFoundError, ValueError):
            versions[name] = None
    return versions


def run_record(argv: list[str], settings: dict, data: dict, names: list[str], **results) -> dict:
    """The run record saved with the weights (checked by check_record when read back): when,
    the command, the settings, the data (path, digest, rows, class names), and `results`:
    versions, history, metrics. A run a hook stopped early says so."""
    record = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "src/NN_Numpy.py", *argv],
        "settings": settings,
        "data": {key: data[key] for key in ("path", "sha256", "rows")} | {"classes": names},
        "versions": results["versions"],
        "history": results["history"],
        "metrics": results["metrics"],
    }
    if len(results["history"]) < settings["epochs"]:  # a hook stopped training
        record["stopped_early"] = {"epochs_done": len(results["history"])}
    return record
