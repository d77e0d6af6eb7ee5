"""NN_Numpy.py: the training techniques, one by one, and the improved recipe on real data."""

import numpy as np
import pytest

import NN_Numpy as nn


def params_and_grads(grad_value=1.0):
    """A list of two parameter arrays and their gradients, as a network hands them over."""
    params = [
        np.random.default_rng(0).standard_normal((2, 3)),
        np.random.default_rng(1).standard_normal(3),
    ]
    return params, [np.full_like(p, grad_value) for p in params]


def test_momentum_step_matches_hand_computation():
    params, grads = params_and_grads()
    p0 = [p.copy() for p in params]
    sgd = nn.SGD(learning_rate=0.1, momentum=0.9)
    sgd.step(params, grads)  # v = g = 1;            p = p0 - 0.1
    sgd.step(params, grads)  # v = 0.9 * 1 + 1 = 1.9; p = p0 - 0.1 - 0.19
    for p, start in zip(params, p0):
        np.testing.assert_allclose(p, start - 0.29)


def test_plain_sgd_and_weight_decay():
    params, grads = params_and_grads(grad_value=0.5)
    p0 = [p.copy() for p in params]
    nn.SGD(learning_rate=0.1, weight_decay=0.01).step(params, grads)
    for p, start in zip(params, p0):
        np.testing.assert_allclose(p, start - 0.1 * (0.5 + 0.01 * start))  # L2 adds wd * p


def test_a_numpy_float64_learning_rate_does_not_turn_the_float32_update_into_float64():
    # NumPy 2 promotes float32 array * np.float64 scalar to float64 (4x slower, other rounding);
    # the cosine schedule's np.cos used to hand the optimizer exactly such a scalar.
    rng = np.random.default_rng(0)
    start, grads = (
        rng.standard_normal(1000, dtype=np.float32),
        rng.standard_normal(1000, dtype=np.float32),
    )
    by_python_float, by_numpy_float = start.copy(), start.copy()
    nn.SGD(learning_rate=0.1).step([by_python_float], [grads.copy()])
    nn.SGD(learning_rate=np.float64(0.1)).step([by_numpy_float], [grads.copy()])
    np.testing.assert_array_equal(by_numpy_float, by_python_float)
    assert by_numpy_float.dtype == np.float32
    assert type(nn.learning_rate_at(3, nn.TrainConfig(epochs=10))) is float


def test_adam_steps_match_hand_computation():
    params, grads = params_and_grads(grad_value=1e-3)
    p0 = [p.copy() for p in params]
    adam = nn.Adam(learning_rate=0.01)
    adam.step(params, grads)
    # step 1: m = 0.1 g, v = 0.001 g^2; bias-corrected m_hat = g, v_hat = g^2: a step of lr,
    # whatever the gradient's scale (up to eps)
    first = 0.01 * 1e-3 / (1e-3 + 1e-8)
    np.testing.assert_allclose(params[0], p0[0] - first, rtol=0, atol=1e-12)
    for g in grads:
        g[...] = -1e-3  # the gradient turns round
    adam.step(params, grads)
    m_hat = (0.9 * 1e-4 - 0.1 * 1e-3) / (1 - 0.9**2)
    v_hat = (0.999 * 1e-9 + 0.001 * 1e-6) / (1 - 0.999**2)
    expected = p0[1] - first - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(params[1], expected, rtol=0, atol=1e-12)


def test_the_update_is_the_one_line_rule_on_every_layer():
    network = nn.NeuralNetwork(seed=0)
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    network.backward(nn.softmax_cross_entropy(network.forward(x), np.array([1, 2, 3]))[1])
    before = [p.copy() for p in network.parameters()]
    optimizer = nn.SGD(learning_rate=0.1, momentum=0.9)
    optimizer.step(network.parameters(), network.gradients())  # first step: velocity = grad
    for layer, (w, b) in zip(network.layers, zip(before[::2], before[1::2])):
        np.testing.assert_allclose(layer.weights, w - 0.1 * layer.grad_weights, rtol=1e-6)
        np.testing.assert_allclose(layer.bias, b - 0.1 * layer.grad_bias, rtol=1e-6)
    assert sum(p.size for p in network.parameters()) == 109_386


def test_a_new_weights_array_keeps_training():
    # Parameters are read from the layers at every step: assigning a new array to a layer's
    # weights must not leave the optimizer updating the old one.
    network, optimizer = nn.NeuralNetwork(seed=0), nn.SGD(learning_rate=0.1, momentum=0.9)
    x, labels = np.random.default_rng(0).random((4, 784), dtype=np.float32), np.array([1, 2, 3, 4])

    def step():
        network.backward(nn.softmax_cross_entropy(network.forward(x), labels)[1])
        optimizer.step(network.parameters(), network.gradients())

    step()  # the optimizer now holds a velocity for every array
    old, new = network.layers[0].weights, network.layers[0].weights.copy()
    network.layers[0].weights = new
    old_values, new_values = old.copy(), new.copy()
    step()
    assert network.layers[0].weights is new and not np.array_equal(new, new_values)
    np.testing.assert_array_equal(old, old_values)  # the replaced array is left alone


def test_cosine_schedule():
    config = nn.TrainConfig(epochs=10, learning_rate=0.1)
    rates = [nn.learning_rate_at(e, config) for e in range(10)]
    assert rates[0] == pytest.approx(0.1)  # the peak, at the start
    assert rates[5] == pytest.approx(0.05)  # half way: half the peak
    assert 0 < rates[-1] < 0.003  # the last epoch: almost 0
    assert all(a > b for a, b in zip(rates, rates[1:]))  # decreasing
    constant = nn.TrainConfig(epochs=12, learning_rate=0.1, schedule="constant")
    assert {nn.learning_rate_at(e, constant) for e in range(12)} == {0.1}


def test_the_final_weights_are_the_last_epochs_not_chosen_on_validation(monkeypatch, small_split):
    # The printed validation accuracy is honest only if nothing was chosen by looking at it.
    X_train, y_train, X_val, y_val = small_split
    network = nn.NeuralNetwork(seed=0)
    accuracies = iter([0.99, 0.10, 0.20])  # the first epoch looks best: it must not be restored
    monkeypatch.setattr(network, "evaluate", lambda X, y: (0.1, next(accuracies)))
    after_epoch = []
    log = lambda line: after_epoch.append([p.copy() for p in network.parameters()])  # noqa: E731
    nn.train(network, X_train[:300], y_train[:300], X_val, y_val, nn.TrainConfig(epochs=3), log=log)
    for final, last in zip(network.parameters(), after_epoch[-1]):
        np.testing.assert_array_equal(final, last)
    assert not np.array_equal(network.parameters()[0], after_epoch[0][0])


def test_training_without_validation_data(small_split):
    X_train, y_train = small_split[0][:500], small_split[1][:500]
    lines = []
    history = nn.train(
        nn.NeuralNetwork(),
        X_train,
        y_train,
        config=nn.TrainConfig(epochs=2, shift=2),
        log=lines.append,
    )
    assert "val_accuracy" not in history[-1] and len(lines) == 2
    assert lines[1].startswith("Epoch 2/2, Loss: ") and "Val" not in lines[1]


def test_improved_recipe_beats_plain_sgd_on_real_data(small_split):
    X_train, y_train, X_val, y_val = small_split
    plain = nn.TrainConfig(epochs=8, momentum=0.0, schedule="constant", weight_decay=0.0, shift=0)
    improved = nn.TrainConfig(epochs=8)  # the defaults
    accuracy = {}
    for name, config in (("plain", plain), ("improved", improved)):
        network = nn.NeuralNetwork(seed=0)
        nn.train(network, X_train, y_train, X_val, y_val, config, log=lambda line: None)
        accuracy[name] = network.accuracy(X_val, y_val)
    assert accuracy["improved"] >= accuracy["plain"] + 0.01, accuracy
