"""NN_Numpy.py: every analytic gradient against central finite differences, in float64."""

import math

import numpy as np
import pytest

import NN_Numpy as nn
from using import math_checks


def numerical_gradient(f, x, eps=1e-6):
    """Central differences (f(x + eps) - f(x - eps)) / 2 eps, one element of x at a time."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        plus = f()
        x[i] = saved - eps
        minus = f()
        x[i] = saved
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "identity"])
def test_layer_gradients_match_finite_differences(activation):
    rng = np.random.default_rng(1)
    layer = nn.FCLayer(7, 5, activation, rng, dtype=np.float64)
    layer.bias = rng.standard_normal(5)  # non-zero, so the bias gradient is exercised
    x = rng.standard_normal((4, 7))
    projection = rng.standard_normal(
        (4, 5)
    )  # loss = sum(output * projection): dL/doutput = projection

    def loss():
        return float((layer.forward(x) * projection).sum())

    loss()
    grad_input = layer.backward(projection)
    assert relative_error(layer.grad_weights, numerical_gradient(loss, layer.weights)) < 1e-6
    assert relative_error(layer.grad_bias, numerical_gradient(loss, layer.bias)) < 1e-6
    assert relative_error(grad_input, numerical_gradient(loss, x)) < 1e-6


def test_softmax_cross_entropy_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((6, 10)) * 3
    labels = rng.integers(0, 10, 6)
    _, grad = nn.softmax_cross_entropy(logits, labels)
    numeric = numerical_gradient(lambda: nn.softmax_cross_entropy(logits, labels)[0], logits)
    assert relative_error(grad, numeric) < 1e-6


def test_softmax_cross_entropy_value_is_mean_negative_log_probability():
    logits = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]])
    labels = np.array([0, 2])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -(np.log(probs[0, 0]) + np.log(probs[1, 2])) / 2
    assert nn.softmax_cross_entropy(logits, labels)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("sizes", [[12, 8, 6, 10], [12, 10]])
def test_whole_network_gradients_match_finite_differences(sizes):
    rng = np.random.default_rng(3)
    network = nn.NeuralNetwork(sizes, seed=4, dtype=np.float64)
    for layer in network.layers:
        layer.bias[...] = rng.standard_normal(layer.bias.shape) * 0.1
    x = rng.random((5, 12))
    labels = rng.integers(0, 10, 5)

    def loss():
        return nn.softmax_cross_entropy(network.forward(x), labels)[0]

    _, grad_logits = nn.softmax_cross_entropy(network.forward(x), labels)
    network.backward(grad_logits)
    for layer in network.layers:
        assert relative_error(layer.grad_weights, numerical_gradient(loss, layer.weights)) < 1e-6
        assert relative_error(layer.grad_bias, numerical_gradient(loss, layer.bias)) < 1e-6
    # and the input gradient, the one the saliency maps of use_network are made of
    grad_input = network.backward(grad_logits, need_grad_input=True)
    assert relative_error(grad_input, numerical_gradient(loss, x)) < 1e-6


def test_softmax_and_cross_entropy_stay_finite_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=np.float32)
    with np.errstate(
        over="raise", invalid="raise", divide="raise"
    ):  # overflow, log(0) or inf - inf fail the test
        probs = nn.softmax(logits)
        loss, grad = nn.softmax_cross_entropy(logits, np.array([1, 2]))
    np.testing.assert_allclose(probs, [[1, 0, 0], [0, 0, 1]])
    assert loss == pytest.approx(2e4 / 2)  # sample 0: log p(class 1) = -2e4; sample 1: 0
    assert np.isfinite(grad).all()


def test_initialisation_scales_with_fan_in():
    rng = np.random.default_rng(0)
    he = nn.FCLayer(784, 128, "relu", rng)
    glorot = nn.FCLayer(784, 128, "identity", rng)
    assert he.weights.dtype == np.float32
    assert he.weights.std() == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    assert glorot.weights.std() == pytest.approx(np.sqrt(2 / (784 + 128)), rel=0.02)
    assert not he.bias.any()


def test_first_layer_skips_its_input_gradient():
    layer = nn.FCLayer(4, 3, "relu", np.random.default_rng(0))
    layer.forward(np.ones((2, 4), np.float32))
    assert layer.backward(np.ones((2, 3), np.float32), need_grad_input=False) is None
    assert layer.grad_weights.shape == (4, 3)


# --- The loss on non-digits -----------------------------------------------------------------


def test_a_non_digit_s_target_is_uniform_and_its_gradient_matches_finite_differences():
    labels = np.array([3, nn.NOT_A_DIGIT, 7, nn.NOT_A_DIGIT])
    targets = nn.target_distributions(labels, 10, np.float64)
    np.testing.assert_array_equal(targets[1], np.full(10, 0.1))
    assert targets[0, 3] == 1 and targets[0].sum() == 1
    loss, _ = nn.softmax_cross_entropy(np.zeros((1, 10)), np.array([nn.NOT_A_DIGIT]))
    assert loss == pytest.approx(math.log(10))  # uniform output: the least a non-digit costs
    logits = np.random.default_rng(0).standard_normal((4, 10))
    _, grad = nn.softmax_cross_entropy(logits, labels)
    eps = 1e-6
    for i, k in [(1, 0), (1, 9), (3, 4), (0, 3)]:
        step = np.zeros_like(logits)
        step[i, k] = eps
        up = nn.softmax_cross_entropy(logits + step, labels)[0]
        down = nn.softmax_cross_entropy(logits - step, labels)[0]
        assert grad[i, k] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


def test_a_sigmoid_network_backpropagates_as_finite_differences_say():
    """--activation sigmoid: every parameter of the whole 784-128-64-10 network, in float64."""
    network = nn.NeuralNetwork(seed=3, dtype=np.float64, activation="sigmoid")
    assert [layer.activation for layer in network.layers] == ["sigmoid", "sigmoid", "identity"]
    rng = np.random.default_rng(3)
    x, labels = rng.random((8, 784)), rng.integers(0, 10, 8)
    errors = math_checks.gradient_check(network, x, labels, entries=20)
    assert len(errors) == 6 and max(errors.values()) < 1e-6, errors


def test_sigmoid_is_the_logistic_function_and_never_overflows():
    z = np.array([-1000.0, -20.0, 0.0, 3.0, 1000.0], dtype=np.float32)
    with np.errstate(all="raise"):  # no overflow warning anywhere
        s = nn.sigmoid(z)
    assert s.dtype == np.float32
    logistic = 1 / (1 + np.exp(-z[1:4].astype(np.float64)))
    np.testing.assert_allclose(s[1:4], logistic, rtol=0, atol=1e-7)  # float32's precision
    assert s[0] == 0 and s[-1] == 1 and s[2] == 0.5
