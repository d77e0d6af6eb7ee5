"""src/using/robustness.py: the robustness figures' transforms and answer shares."""

import numpy as np

from using import robustness


def test_robustness_transforms_change_nothing_at_zero_and_answers_add_up(small_split):
    X = small_split[2][:20]
    for how in robustness.ROBUSTNESS:
        np.testing.assert_allclose(robustness.transformed(X, how, 0.0), X, atol=1e-6)
    blurred = robustness.transformed(X, "blur", 1.0)
    assert blurred.max() < X.max() and np.abs(blurred.sum() / X.sum() - 1) < 0.05  # ink kept
    turned = robustness.transformed(X[:1], "rotation", 90.0).reshape(28, 28)
    np.testing.assert_allclose(turned, np.rot90(X[0].reshape(28, 28)), atol=1e-5)
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    shares = robustness.answers(probs, np.array([0, 1, 0, 0]), not_sure=0.65, not_a_digit=0.55)
    assert shares == [0.25, 0.25, 0.25, 0.25]  # right, wrong, not sure (0.6), not a digit (0.5)
    assert robustness.answers(probs, None, 0.65, 0.55)[:2] == [0, 0.5]  # non-digits: all wrong
