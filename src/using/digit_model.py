"""A trained digit model and its answers: loading it, the digit, "not sure" or "not a digit",
and test-time augmentation. Used by every command of use_network.py that reads digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import NN_Numpy as nn
from files import run_record
from files.errors import InputError
from learning import deskew


def load_model(path: Path, dtype=nn.DTYPE) -> nn.NeuralNetwork:
    """A saved network that maps 784 pixels to 10 classes, or an InputError saying why not."""
    network = nn.NeuralNetwork.load(path, dtype)
    n_in, n_out = network.layer_sizes[0], network.layer_sizes[-1]
    if (n_in, n_out) != (nn.N_PIXELS, nn.N_CLASSES):
        raise InputError(
            f"{path} maps {n_in} inputs to {n_out} outputs; a digit model "
            f"maps {nn.N_PIXELS} to {nn.N_CLASSES}"
        )
    # An unusable history is refused by every command, as report does: e.g. an empty one, of a
    # model stopped before its first epoch ended (the live page saved such models before #29).
    run_record.optional(network.record, "history", None)
    if run_record.optional(network.record, "settings.deskew", False):
        network.predict_logits = deskewing(network)
    return network


def deskewing(network: nn.NeuralNetwork):
    """A model trained with --deskew saw every image straightened by its slant: so does every
    image it reads in use (a photo, a drawing, a row of test.csv), before its answer. Its
    predict_logits, with the images checked and deskewed first."""
    predict_logits = network.predict_logits

    def straightened_first(X, chunk_size=4096):
        return predict_logits(deskew.deskew(network.check_input(X)), chunk_size)

    return straightened_first


def load_digit_model(path: Path, what: str, dtype=nn.DTYPE) -> nn.NeuralNetwork:
    """load_model, for a command that reads handwritten digits (`what`: "predict", "submit",
    "the drawing page"): own photos, drawings and Kaggle's test.csv are digits, so a model
    trained on other classes (Fashion-MNIST, a names file) is refused in one line. The one
    check every digit command makes."""
    network = load_model(path, dtype)
    names = run_record.optional(network.record, "data.classes", nn.DIGIT_NAMES)
    if names != nn.DIGIT_NAMES:
        raise InputError(
            f"{path} classifies {', '.join(names[:3])}, ... (not the digits 0-9); {what} "
            "reads handwritten digits only: use a model trained on digits"
        )
    return network


def verdict(probs: np.ndarray, threshold: float, not_a_digit=0.0) -> tuple[int | None, str]:
    """(7, "7"); (None, "not a digit") when the top probability is below not_a_digit; or
    (None, "not sure (best guess 7, 41%)") when it is below the not-sure threshold: both are
    stored with the model (see NN_Numpy.not_sure_threshold and not_a_digit_threshold)."""
    best = int(np.argmax(probs))
    if probs[best] < not_a_digit:
        return None, "not a digit"
    if probs[best] >= threshold:
        return best, str(best)
    return None, f"not sure (best guess {best}, {int(100 * probs[best])}%)"  # rounded down


def threshold_of(network: nn.NeuralNetwork) -> float:
    """The model's "not sure" threshold, set on its validation rows at training time; 0
    (always answer) for a model saved without one."""
    return float(run_record.optional(network.record, "metrics.not_sure_threshold", 0.0))


def not_a_digit_threshold_of(network: nn.NeuralNetwork) -> float:
    """The model's "not a digit" threshold, set at training time; 0 (never) for a model saved
    without one (before issue #20). A model trained with --negatives 0 has one too, but only a
    network trained on non-digits puts letters and doodles below it."""
    return float(run_record.optional(network.record, "metrics.not_a_digit_threshold", 0.0))


def predict_proba_tta(network: nn.NeuralNetwork, X, tta=True) -> np.ndarray:
    """Class probabilities (N, 10) of images X (N, 784). With tta (test-time augmentation), the
    mean over each image and 4 copies moved by one pixel, up, down, left and right: the network
    trained on moved digits, and 5 slightly different looks outvote a borderline one."""
    if not tta:
        return network.predict_proba(X)
    padded = np.pad(np.asarray(X, network.dtype).reshape(-1, 28, 28), [(0, 0), (1, 1), (1, 1)])
    moves = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]  # (down, right) in pixels
    views = (padded[:, 1 - y : 29 - y, 1 - x : 29 - x].reshape(-1, 784) for y, x in moves)
    return sum(network.predict_proba(view) for view in views) / len(moves)
