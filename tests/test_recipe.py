"""The training techniques, one by one, and the improved recipe on real data."""
import numpy as np
import pytest

import NN_Numpy as nn


def params_and_grads(grad_value=1.0):
    """Flat parameter and gradient arrays, as the optimizers get them from a network."""
    return np.random.default_rng(0).standard_normal(6), np.full(6, grad_value)


def test_momentum_step_matches_hand_computation():
    params, grads = params_and_grads()
    p0 = params.copy()
    sgd = nn.SGD(momentum=0.9)
    sgd.step(params, grads, learning_rate=0.1)  # v = g = 1;            p = p0 - 0.1
    sgd.step(params, grads, learning_rate=0.1)  # v = 0.9 * 1 + 1 = 1.9; p = p0 - 0.1 - 0.19
    np.testing.assert_allclose(params, p0 - 0.29)


def test_nesterov_step_matches_hand_computation():
    params, grads = params_and_grads()
    p0 = params.copy()
    sgd = nn.SGD(momentum=0.9, nesterov=True)
    sgd.step(params, grads, learning_rate=0.1)  # v = 1;   step = g + 0.9 v = 1.9
    sgd.step(params, grads, learning_rate=0.1)  # v = 1.9; step = 1 + 0.9 * 1.9 = 2.71
    np.testing.assert_allclose(params, p0 - 0.1 * (1.9 + 2.71))


def test_plain_sgd_and_weight_decay():
    params, grads = params_and_grads(grad_value=0.5)
    p0 = params.copy()
    nn.SGD(weight_decay=0.01).step(params, grads, learning_rate=0.1)
    np.testing.assert_allclose(params, p0 - 0.1 * (0.5 + 0.01 * p0))  # L2 adds wd * p to the gradient


def test_a_numpy_float64_learning_rate_does_not_turn_the_float32_update_into_float64():
    # NumPy 2 promotes float32 array * np.float64 scalar to float64 (4x slower, rounded differently);
    # the cosine schedule's np.cos used to hand the optimizer exactly such a scalar.
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal(1000, dtype=np.float32), rng.standard_normal(1000, dtype=np.float32)
    by_python_float, by_numpy_float = start.copy(), start.copy()
    nn.SGD().step(by_python_float, grads.copy(), learning_rate=0.1)
    nn.SGD().step(by_numpy_float, grads.copy(), learning_rate=np.float64(0.1))
    np.testing.assert_array_equal(by_numpy_float, by_python_float)
    assert type(nn.learning_rate_at(3, nn.TrainConfig(epochs=10))) is float


def test_adam_steps_match_hand_computation():
    params, grads = params_and_grads(grad_value=1e-3)
    p0 = params.copy()
    adam = nn.Adam()
    adam.step(params, grads, learning_rate=0.01)
    # step 1: m = 0.1 g, v = 0.001 g^2; bias-corrected m_hat = g, v_hat = g^2: a step of lr,
    # whatever the gradient's scale (up to eps)
    first = 0.01 * 1e-3 / (1e-3 + 1e-8)
    np.testing.assert_allclose(params, p0 - first, rtol=0, atol=1e-12)
    grads[...] = -1e-3  # the gradient turns round
    adam.step(params, grads, learning_rate=0.01)
    m_hat = (0.9 * 1e-4 - 0.1 * 1e-3) / (1 - 0.9**2)
    v_hat = (0.999 * 1e-9 + 0.001 * 1e-6) / (1 - 0.999**2)
    np.testing.assert_allclose(params, p0 - first - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=0, atol=1e-12)


def test_layers_are_views_into_the_flat_parameters():
    network = nn.NeuralNetwork(seed=0)
    assert network.parameters.size == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    network.parameters[:] = 0.5
    network.gradients[:] = 0.25
    for layer in network.layers:
        assert (layer.weights == 0.5).all() and (layer.bias == 0.5).all()
        assert (layer.grad_weights == 0.25).all() and (layer.grad_bias == 0.25).all()
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    _, grad_logits = nn.softmax_cross_entropy(network.forward(x), np.array([1, 2, 3]))
    network.backward(grad_logits)  # backward writes into the flat gradients
    first = network.layers[0]
    np.testing.assert_array_equal(network.gradients[: first.grad_weights.size], first.grad_weights.ravel())


def test_cosine_schedule_with_warmup():
    config = nn.TrainConfig(epochs=12, learning_rate=0.1, warmup_epochs=2)
    rates = [nn.learning_rate_at(e, config) for e in range(12)]
    assert rates[:2] == pytest.approx([0.05, 0.1])  # linear warm-up
    assert rates[2] == pytest.approx(0.1)  # the peak
    assert rates[7] == pytest.approx(0.05)  # half way through the cosine: half the peak
    assert 0 < rates[-1] < 0.003  # the last epoch: almost 0
    assert all(a > b for a, b in zip(rates[2:], rates[3:]))  # decreasing after the warm-up
    constant = nn.TrainConfig(epochs=12, learning_rate=0.1, schedule="constant")
    assert {nn.learning_rate_at(e, constant) for e in range(12)} == {0.1}


def test_shifted_image_is_the_same_image_moved_with_zeros_filled_in():
    rng = np.random.default_rng(0)
    images = rng.integers(1, 256, size=(500, 784)).astype(np.float32)  # no zeros of its own
    shifted = nn.random_shift(nn.shift_windows(images, 2), np.arange(500), np.random.default_rng(1))
    dy, dx = np.random.default_rng(1).integers(-2, 3, size=(2, 500))  # the shifts it drew
    assert {(a, b) for a, b in zip(dy, dx)} == {(a, b) for a in range(-2, 3) for b in range(-2, 3)}
    for image, moved, y, x in zip(images, shifted, dy, dx):
        expected = np.zeros((28, 28), np.float32)
        source = image.reshape(28, 28)
        expected[max(y, 0) : 28 + min(y, 0), max(x, 0) : 28 + min(x, 0)] = source[max(-y, 0) : 28 + min(-y, 0), max(-x, 0) : 28 + min(-x, 0)]
        np.testing.assert_array_equal(moved.reshape(28, 28), expected)
    assert np.array_equal(nn.random_shift(nn.shift_windows(images, 0), np.arange(500), rng), images)
    rows = np.array([7, 3])  # a gather of rows: shuffling and shifting in one go
    np.testing.assert_array_equal(nn.random_shift(nn.shift_windows(images, 0), rows, rng), images[rows])


def test_a_right_shift_by_one_pixel_by_hand():
    image = np.zeros((1, 784), np.float32)
    image[0, 5 * 28 + 27] = 1  # a dot at row 5, last column
    image[0, 6 * 28 + 3] = 2  # and one at row 6, column 3

    class Fixed:  # an rng that always draws dy = 0, dx = +1
        def integers(self, low, high, size):
            return np.array([[0], [1]])

    moved = nn.random_shift(nn.shift_windows(image, 1), np.array([0]), Fixed()).reshape(28, 28)
    assert moved[6, 4] == 2 and moved.sum() == 2  # moved right; the dot at the edge fell off


def make_fit_with_accuracies(accuracies, monkeypatch, small_split):
    """A network whose validation accuracy per epoch is scripted, and the weights after each epoch."""
    network = nn.NeuralNetwork(seed=0)
    scripted = iter(accuracies)
    monkeypatch.setattr(network, "evaluate", lambda X, y: (0.1, next(scripted)))
    after_epoch = []

    def log(line):
        if line.startswith("Epoch"):
            after_epoch.append(network.parameters.copy())

    return network, after_epoch, log


def test_best_weights_are_restored(monkeypatch, small_split):
    X_train, y_train, X_val, y_val = small_split
    network, after_epoch, log = make_fit_with_accuracies([0.90, 0.95, 0.93, 0.92], monkeypatch, small_split)
    lines = []
    network.fit(X_train[:300], y_train[:300], X_val, y_val, nn.TrainConfig(epochs=4), log=lambda l: (log(l), lines.append(l)))
    np.testing.assert_array_equal(network.parameters, after_epoch[1])
    assert not np.array_equal(network.parameters, after_epoch[3])
    assert lines[-1] == "Restored the weights of epoch 2 (best validation accuracy, 95.00%)"


def test_no_restore_keeps_the_last_weights(monkeypatch, small_split):
    X_train, y_train, X_val, y_val = small_split
    network, after_epoch, log = make_fit_with_accuracies([0.95, 0.90], monkeypatch, small_split)
    network.fit(X_train[:300], y_train[:300], X_val, y_val, nn.TrainConfig(epochs=2, restore_best=False), log=log)
    np.testing.assert_array_equal(network.parameters, after_epoch[1])


def test_early_stopping_after_patience_epochs_without_improvement(monkeypatch, small_split):
    X_train, y_train, X_val, y_val = small_split
    network, after_epoch, log = make_fit_with_accuracies([0.90, 0.91, 0.91, 0.905, 0.99], monkeypatch, small_split)
    lines = []
    history = network.fit(X_train[:300], y_train[:300], X_val, y_val, nn.TrainConfig(epochs=5, early_stopping=2),
                          log=lambda l: (log(l), lines.append(l)))
    assert len(history) == 4  # best at epoch 2; epochs 3 and 4 no better: stop
    assert lines[-2] == "Early stopping: no better validation accuracy in the last 2 epochs"


def test_training_without_validation_data(small_split):
    X_train, y_train = small_split[0][:500], small_split[1][:500]
    lines = []
    history = nn.NeuralNetwork().fit(X_train, y_train, config=nn.TrainConfig(epochs=2, shift=2), log=lines.append)
    assert "val_accuracy" not in history[-1] and len(lines) == 2
    assert lines[1].startswith("Epoch 2/2, Loss: ") and "Val" not in lines[1]


def test_improved_recipe_beats_plain_sgd_on_real_data(small_split):
    X_train, y_train, X_val, y_val = small_split
    plain = nn.TrainConfig(epochs=8, momentum=0.0, schedule="constant", weight_decay=0.0, shift=0, label_smoothing=0.0)
    improved = nn.TrainConfig(epochs=8)  # the defaults
    accuracy = {}
    for name, config in (("plain", plain), ("improved", improved)):
        network = nn.NeuralNetwork(seed=0)
        network.fit(X_train, y_train, X_val, y_val, config, log=lambda line: None)
        accuracy[name] = network.accuracy(X_val, y_val)
    assert accuracy["improved"] >= accuracy["plain"] + 0.01, accuracy


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match=r"^--weight-decay must be >= 0, got -1$"):
        nn.TrainConfig(weight_decay=-1)
    with pytest.raises(ValueError, match=r"^--optimizer must be 'sgd' or 'adam', got rmsprop$"):
        nn.TrainConfig(optimizer="rmsprop")
