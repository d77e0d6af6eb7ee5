"""src/using/digit_model.py: a digit model loaded, its verdict, test-time augmentation."""

import math

import numpy as np
import pytest
from conftest import images, one_error_line

import NN_Numpy as nn
import use_network as un
from using import digit_model


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


def test_every_command_refuses_a_model_that_never_finished_an_epoch(model, tmp_path, capsys):
    # Issue #29, item 3: a stop before the first epoch ended once saved a model at chance
    # that predict and submit used without a word (report alone refused it)
    network = nn.NeuralNetwork.load(model)
    network.record["history"] = []
    network.record["stopped_early"] = {"epochs_done": 0}
    network.save(tmp_path / "untrained.npz")
    path = tmp_path / "untrained.npz"
    line = (  # report's own line, before: now every command's
        f"error: {path} has an unusable history: 0 entries, fewer than 1; "
        "retrain the model: python src/NN_Numpy.py"
    )
    image = tmp_path / "x.png"
    image.write_bytes(b"")  # never read: the model is refused first
    for argv in (
        ["predict", "--model", str(path), str(image)],
        ["submit", "--model", str(path), "--out", str(tmp_path / "s.csv")],
        ["report", "--model", str(path)],
        ["gradcheck", "--model", str(path)],
    ):
        assert un.main(argv) == 1, argv
        assert one_error_line(capsys) == line, argv
    assert not (tmp_path / "s.csv").exists()


def test_test_time_augmentation_averages_the_image_and_four_one_pixel_moves():
    from using import digit_model

    class Recorder:  # a network that remembers what it was shown
        dtype, seen = np.float32, []

        def predict_proba(self, X):
            self.seen.append(X.reshape(-1, 28, 28).copy())
            return np.full((len(X), 10), len(self.seen), np.float32)  # view k says k

    X = images(3)
    probs = digit_model.predict_proba_tta(Recorder(), X)
    np.testing.assert_array_equal(probs, np.full((3, 10), 3))  # the mean of 1..5
    image = X.reshape(3, 28, 28)
    first, up, down, left, right = Recorder.seen
    np.testing.assert_array_equal(first, image)
    np.testing.assert_array_equal(up[:, :-1], image[:, 1:])  # moved up: row r shows row r + 1
    np.testing.assert_array_equal(down[:, 1:], image[:, :-1])
    np.testing.assert_array_equal(left[:, :, :-1], image[:, :, 1:])
    np.testing.assert_array_equal(right[:, :, 1:], image[:, :, :-1])
    assert not up[:, -1].any() and not right[:, :, 0].any()  # zeros move in
    network = nn.NeuralNetwork(seed=0)
    np.testing.assert_array_equal(
        digit_model.predict_proba_tta(network, X, tta=False), network.predict_proba(X)
    )


def test_verdict_on_hand_made_probabilities():
    probs = np.full(10, 0.02)
    probs[7] = 0.82
    assert digit_model.verdict(probs, 0.8) == (7, "7")
    assert digit_model.verdict(probs, 0.82) == (7, "7")  # at the threshold: sure
    assert digit_model.verdict(probs, 0.9) == (None, "not sure (best guess 7, 82%)")
    probs = np.array([0.41, 0.3, 0.29, 0, 0, 0, 0, 0, 0, 0])
    assert digit_model.verdict(probs, 0.995) == (None, "not sure (best guess 0, 41%)")
    probs = np.array([0.0001, 0.9999, 0, 0, 0, 0, 0, 0, 0, 0])
    assert digit_model.verdict(probs, math.inf) == (
        None,
        "not sure (best guess 1, 99%)",
    )  # not 100%


def test_verdict_says_not_a_digit_strictly_below_its_threshold():
    probs = np.array([0.05, 0.3, 0.65] + [0] * 7)
    assert digit_model.verdict(probs, 0.9, 0.65) == (None, "not sure (best guess 2, 65%)")  # a tie
    assert digit_model.verdict(probs, 0.9, 0.66) == (None, "not a digit")
    assert digit_model.verdict(probs, 0.65, 0.65) == (2, "2")
    assert digit_model.verdict(probs, 0.9) == (
        None,
        "not sure (best guess 2, 65%)",
    )  # no threshold: 0
