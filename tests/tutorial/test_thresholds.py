"""NN_Numpy.py: the "not sure" and "not a digit" thresholds set at training time."""

import math

import numpy as np
import pytest

import NN_Numpy as nn
from using import digit_model


def threshold_for(tops, right, target=0.995):
    """nn.not_sure_threshold on answers with these top probabilities, right or wrong."""
    probs = np.zeros((len(tops), 10))
    probs[:, 0] = tops
    probs[:, 1:] = (1 - np.asarray(tops, float))[:, None] / 9
    return nn.not_sure_threshold(probs, np.where(right, 0, 1), target)


def test_not_sure_threshold_on_hand_made_answers():
    tops = [0.9, 0.8, 0.7, 0.6]
    # Answered above each cut: 1/1, 2/2, 2/3, 3/4 right.
    assert threshold_for(tops, [True, True, False, True], target=0.75) == 0.6
    assert threshold_for(tops, [True, True, False, True], target=0.8) == 0.8
    assert threshold_for(tops, [True] * 4) == 0.6  # all right: answer everything
    assert threshold_for(tops[::-1], [True, False, True, True], target=0.75) == 0.6
    # Equal probabilities are answered together: 0.8 takes both 0.8s, one of them wrong.
    assert threshold_for([0.9, 0.8, 0.8], [True, True, False], target=0.9) == 0.9
    assert threshold_for([0.9], [False]) == math.inf  # never right: never sure
    # Exactly on target counts: 199 of 200 right is 0.995.
    assert threshold_for(np.linspace(1, 0.5, 200), np.arange(200) != 100) == 0.5


def test_the_threshold_is_set_at_training_time_and_stored_with_the_model(tmp_path):
    model = tmp_path / "model.npz"
    assert nn.main(["--limit", "3000", "--epochs", "2", "--no-plots", "--model", str(model)]) == 0
    network = nn.NeuralNetwork.load(model)
    threshold = network.record["metrics"]["not_sure_threshold"]
    split = nn.load_split(None, nn.TrainConfig(limit=3000, epochs=2))
    assert threshold == nn.not_sure_threshold(network.predict_proba(split["X_val"]), split["y_val"])
    assert digit_model.threshold_of(network) == threshold
    assert digit_model.threshold_of(nn.NeuralNetwork()) == 0.0  # no record: always answer


def test_not_a_digit_threshold_leaves_2_in_1000_digits_below_and_never_passes_not_sure():
    tops = np.linspace(0.2, 1, 1001)  # 1001 digits' top probabilities, 0.2 to 1
    probs = np.column_stack([tops, np.zeros_like(tops)])  # (1001, 2)
    assert nn.not_a_digit_threshold(probs, 0.9) == pytest.approx(0.2016)
    assert nn.not_a_digit_threshold(probs, 0.1) == 0.1  # capped by the not-sure threshold
