"""src/using/strokes.py: strokes drawn thinner or thicker."""

import numpy as np

from using.strokes import vary_thickness

# --- Strokes thinner and thicker ----------------------------------------------------------


def test_thickness_zero_is_the_identity_and_one_a_plus_shaped_step():
    dot = np.zeros((3, 784), np.float32)
    dot[:, 10 * 28 + 12] = 1
    np.testing.assert_array_equal(vary_thickness(dot, np.zeros(3, np.float32)), dot)
    grown = vary_thickness(dot, np.array([1, -1, 0.5], np.float32)).reshape(3, 28, 28)
    assert grown[0].sum() == 5 and grown[0][9:12, 12].sum() == 3 and grown[0][10, 11:14].sum() == 3
    assert grown[1].sum() == 0  # a one-pixel dot eroded away
    assert grown[2].sum() == 3 and grown[2][10, 12] == 1  # half way: the plus at 0.5
