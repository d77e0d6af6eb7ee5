"""src/using/math_checks.py: the input gradient behind the heat map."""

import numpy as np
import pytest

import NN_Numpy as nn
from using import math_checks


def test_input_gradient_matches_finite_differences():
    network = nn.NeuralNetwork([784, 16, 8, 10], seed=1, dtype=np.float64)
    x = np.random.default_rng(0).random((1, 784))
    gradient = math_checks.input_gradient(network, x, 3)
    assert gradient.shape == (784,)
    eps = 1e-6
    for pixel in [0, 100, 400, 783]:
        step = np.zeros_like(x)
        step[0, pixel] = eps
        numeric = (network.forward(x + step)[0, 3] - network.forward(x - step)[0, 3]) / (2 * eps)
        assert gradient[pixel] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
