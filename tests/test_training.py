"""Training on real MNIST rows, determinism, divergence, predict's input checks, save and load."""
import numpy as np
import pytest

import NN_Numpy as nn

QUICK = nn.TrainConfig(epochs=5, batch_size=64, learning_rate=0.05, momentum=0.9, schedule="constant", seed=0)


def train(split, config=QUICK, seed=0):
    X_train, y_train, X_val, y_val = split
    network = nn.NeuralNetwork(seed=seed)
    history = network.fit(X_train, y_train, X_val, y_val, config, log=lambda line: None)
    return network, history


def test_short_run_on_real_mnist_reaches_90_percent(small_split):
    network, history = train(small_split)
    X_val, y_val = small_split[2], small_split[3]
    assert network.accuracy(X_val, y_val) >= 0.90  # 4,000 images, 5 epochs: 91.2% measured
    assert max(h["val_accuracy"] for h in history) == network.accuracy(X_val, y_val)  # the best epoch's weights
    assert history[-1]["loss"] < history[0]["loss"] / 2
    assert network.layers[0].weights.dtype == np.float32


def test_same_seed_gives_the_same_weights_and_numbers(small_split):
    a, history_a = train(small_split)
    b, history_b = train(small_split)
    c, _ = train(small_split, seed=1)
    for layer_a, layer_b in zip(a.layers, b.layers):
        np.testing.assert_array_equal(layer_a.weights, layer_b.weights)
    assert [h["loss"] for h in history_a] == [h["loss"] for h in history_b]
    assert not np.array_equal(a.layers[0].weights, c.layers[0].weights)


def test_epoch_lines_have_the_documented_form(small_split):
    X_train, y_train, X_val, y_val = small_split
    lines = []
    nn.NeuralNetwork().fit(X_train[:500], y_train[:500], X_val, y_val, nn.TrainConfig(epochs=2), log=lines.append)
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2, Loss: ")
    assert lines[1].startswith("Epoch 2/2, Loss: ")
    assert ", Val Loss: " in lines[1] and ", Val Accuracy: " in lines[1] and lines[1].endswith("s")


def test_divergence_stops_with_the_epoch_and_a_smaller_learning_rate(small_split):
    X_train, y_train = small_split[0], small_split[1]
    with pytest.raises(nn.TrainingDiverged) as info:
        nn.NeuralNetwork().fit(X_train, y_train, config=nn.TrainConfig(epochs=3, learning_rate=1e4), log=lambda line: None)
    assert str(info.value) == "the training loss became nan in epoch 1; try a smaller learning rate (--lr 1000)"


def test_predict_checks_its_input():
    network = nn.NeuralNetwork()
    with pytest.raises(ValueError, match=r"expected an array of shape \(N, 784\) with pixels scaled to \[0, 1\], got shape \(28, 28\)"):
        network.predict(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="input contains NaN or infinite values"):
        network.predict_proba(np.full((2, 784), np.nan))
    with pytest.raises(ValueError, match="expected real numbers, got dtype <U1"):
        network.predict(np.full((1, 784), "a"))
    probs = network.predict_proba(np.random.default_rng(0).random((5000, 784)))  # more than one chunk
    assert probs.shape == (5000, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_save_and_load_round_trip(tmp_path, small_split):
    network = nn.NeuralNetwork([784, 32, 10], ["sigmoid", "softmax"], seed=3)
    path = tmp_path / "model.npz"
    network.save(path)
    loaded = nn.NeuralNetwork.load(path)
    assert loaded.layer_sizes == [784, 32, 10] and loaded.activations == ["sigmoid", "softmax"]
    np.testing.assert_array_equal(loaded.predict_proba(small_split[2]), network.predict_proba(small_split[2]))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left behind


def test_load_refuses_bad_model_files(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(nn.InputError, match="no model file at .*missing.npz; train one first: python src/NN_Numpy.py"):
        nn.NeuralNetwork.load(missing)

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(nn.InputError, match="garbage.npz is not a readable model file"):
        nn.NeuralNetwork.load(garbage)

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, layer_sizes=np.array([784, 10]), activations=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(nn.InputError, match="pickled.npz is not a readable model file"):
        nn.NeuralNetwork.load(pickled)

    mismatched = tmp_path / "mismatched.npz"
    np.savez(mismatched, layer_sizes=np.array([784, 10]), activations=np.array(["softmax"]),
             weights_0=np.zeros((784, 11)), bias_0=np.zeros(10))
    with pytest.raises(nn.InputError, match=r"mismatched.npz is not a valid model file: layer 0 has weights \(784, 11\)"):
        nn.NeuralNetwork.load(mismatched)

    incomplete = tmp_path / "incomplete.npz"
    np.savez(incomplete, layer_sizes=np.array([784, 10]), activations=np.array(["softmax"]))
    with pytest.raises(nn.InputError, match="incomplete.npz is not a valid model file: 'weights_0'"):
        nn.NeuralNetwork.load(incomplete)

    broken = tmp_path / "broken.npz"
    np.savez(broken, layer_sizes=np.array([784, 10]), activations=np.array(["softmax"]),
             weights_0=np.full((784, 10), np.nan), bias_0=np.zeros(10))
    with pytest.raises(nn.InputError, match="broken.npz is not a valid model file: layer 0 holds NaN"):
        nn.NeuralNetwork.load(broken)


def test_a_failed_save_keeps_the_old_model(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nn.NeuralNetwork(seed=1).save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        nn.NeuralNetwork(seed=2).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_fit_checks_its_data(small_split):
    X_train, y_train = small_split[0][:200], small_split[1][:200]
    network = nn.NeuralNetwork()
    with pytest.raises(ValueError, match=r"^expected 200 labels, one per image, got an array of shape \(199,\)$"):
        network.fit(X_train, y_train[:199], config=nn.TrainConfig(epochs=1), log=lambda line: None)
    with pytest.raises(ValueError, match=r"^labels must be whole numbers 0-9$"):
        network.fit(X_train, y_train + 1.0, config=nn.TrainConfig(epochs=1), log=lambda line: None)
    with pytest.raises(ValueError, match=r"^expected an array of shape \(N, 784\)"):
        network.fit(X_train.reshape(-1, 28, 28), y_train, config=nn.TrainConfig(epochs=1), log=lambda line: None)
    # float64 input is accepted and trained in float32
    network.fit(X_train.astype(np.float64), y_train, config=nn.TrainConfig(epochs=1), log=lambda line: None)
    assert network.parameters.dtype == np.float32


def test_evaluate_matches_the_training_loss_and_stays_finite(small_split):
    network = nn.NeuralNetwork(seed=0)
    X_val, y_val = small_split[2], small_split[3]
    loss, accuracy = network.evaluate(X_val, y_val)
    expected, _ = nn.softmax_cross_entropy(network.forward(X_val), y_val)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert accuracy == network.accuracy(X_val, y_val)
    network.layers[-1].weights *= 1e4  # absurdly confident: log-probabilities of -1e4 and less
    loss, _ = network.evaluate(X_val, y_val)
    assert np.isfinite(loss) and loss > 100
