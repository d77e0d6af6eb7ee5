"""Training on real MNIST rows, determinism, divergence, predict's input checks, save and load."""

import numpy as np
import pytest

import NN_Numpy as nn
from learning import run_checks

QUICK = nn.TrainConfig(
    epochs=5, batch_size=64, learning_rate=0.05, momentum=0.9, schedule="constant", seed=0
)


def train(split, config=QUICK, seed=0):
    X_train, y_train, X_val, y_val = split
    network = nn.NeuralNetwork(seed=seed)
    history = nn.train(network, X_train, y_train, X_val, y_val, config, log=lambda line: None)
    return network, history


def test_short_run_on_real_mnist_reaches_90_percent(small_split):
    network, history = train(small_split)
    X_val, y_val = small_split[2], small_split[3]
    # 4,000 images, 5 epochs: 89.5-92.2% over seeds 0-5 (89.9% at seed 0), the code before the
    # augment.py split 88.3-92.2%: a threshold of 0.88 is not a coin toss on the seed
    assert network.accuracy(X_val, y_val) >= 0.88
    assert history[-1]["val_accuracy"] == network.accuracy(X_val, y_val)  # the last epoch's weights
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
    nn.train(
        nn.NeuralNetwork(),
        X_train[:500],
        y_train[:500],
        X_val,
        y_val,
        nn.TrainConfig(epochs=2),
        log=lines.append,
    )
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2, Loss: ")
    assert lines[1].startswith("Epoch 2/2, Loss: ")
    assert ", Val Loss: " in lines[1] and ", Val Accuracy: " in lines[1] and lines[1].endswith("s")


def test_divergence_stops_at_the_batch_it_happens_with_a_smaller_learning_rate(small_split):
    X_train, y_train = small_split[0], small_split[1]  # 4,000 rows: 63 batches an epoch
    network = nn.NeuralNetwork()
    batches_seen = []
    forward = network.forward
    network.forward = lambda x: batches_seen.append(1) or forward(x)
    with pytest.raises(nn.TrainingDiverged) as info:
        nn.train(
            network,
            X_train,
            y_train,
            config=nn.TrainConfig(epochs=3, learning_rate=1e4),
            log=lambda line: None,
        )
    assert len(batches_seen) < 10  # checked every batch, not only at the end of the epoch
    assert str(info.value) == (
        f"the training loss became nan in epoch 1, batch {len(batches_seen)}; try a smaller "
        "learning rate (--learning-rate 1000)"
    )


def test_divergence_names_weight_decay_only_when_it_alone_is_unstable():
    config = nn.TrainConfig(learning_rate=0.1, momentum=0.9, weight_decay=100)  # 10 > 3.8
    assert run_checks.divergence_message(float("inf"), 2, 5, config) == (
        "the training loss became inf in epoch 2, batch 5; try a smaller weight decay "
        "(--weight-decay 10)"
    )
    config = nn.TrainConfig(learning_rate=0.1, momentum=0.9, weight_decay=30)  # 3 < 3.8
    assert "try a smaller learning rate (--learning-rate 0.01)" in run_checks.divergence_message(
        float("nan"), 1, 1, config
    )


def test_predict_checks_its_input():
    network = nn.NeuralNetwork()
    with pytest.raises(
        ValueError, match=r"^expected an array \(N, 784\) of pixels in \[0, 1\], got \(28, 28\)$"
    ):
        network.predict(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="input contains NaN or infinite values"):
        network.predict_proba(np.full((2, 784), np.nan))
    with pytest.raises(ValueError, match="expected real numbers, got dtype <U1"):
        network.predict(np.full((1, 784), "a"))
    probs = network.predict_proba(
        np.random.default_rng(0).random((5000, 784))
    )  # more than one chunk
    assert probs.shape == (5000, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_save_and_load_round_trip(tmp_path, small_split):
    network = nn.NeuralNetwork([784, 32, 10], seed=3)
    network.record = {"settings": {"epochs": 3}, "note": "the run record travels inside the model"}
    path = tmp_path / "model.npz"
    network.save(path)
    loaded = nn.NeuralNetwork.load(path)
    assert loaded.layer_sizes == [784, 32, 10] and loaded.record == network.record
    np.testing.assert_array_equal(
        loaded.predict_proba(small_split[2]), network.predict_proba(small_split[2])
    )
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left behind


def model_file(path, compress=False, **arrays):
    """An .npz with a valid 784-10 model's arrays, some replaced or removed (None)."""
    valid = {
        "layer_sizes": np.array([784, 10]),
        "record": np.array("{}"),
        "weights_0": np.zeros((784, 10), np.float32),
        "bias_0": np.zeros(10, np.float32),
    }
    save = np.savez_compressed if compress else np.savez
    save(path, **{k: v for k, v in {**valid, **arrays}.items() if v is not None})
    return path


def test_load_refuses_bad_model_files(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(
        nn.InputError,
        match="no model file at .*missing.npz; train one first: python src/NN_Numpy.py",
    ):
        nn.NeuralNetwork.load(missing)
    nn.NeuralNetwork.load(model_file(tmp_path / "valid.npz"))  # the template itself loads

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    cases = {
        garbage: r"is not a model saved by NN_Numpy.py \(not an .npz archive\)$",
        model_file(
            tmp_path / "pickled.npz", record=np.array([{"evil": 1}], dtype=object)
        ): r"is not a model saved by NN_Numpy.py \(Object arrays cannot be loaded when "
        r"allow_pickle=False\)",
        model_file(
            tmp_path / "mismatched.npz", weights_0=np.zeros((784, 11), np.float32)
        ): r"is not a valid model file: weights_0 is float32 \(784, 11\), not \(784, 10\) floats",
        model_file(  # 200 MB of zeros, deflated to 200 kB: refused before it is read
            tmp_path / "bloated.npz", weights_0=np.zeros((784, 32_000)), compress=True
        ): r"is not a valid model file: weights_0 is larger than its \(784, 10\) floats",
        model_file(
            tmp_path / "bloated_record.npz", record=np.array("x" * 20_000_000), compress=True
        ): "is not a valid model file: its layer_sizes or record is far larger than a model's",
        model_file(
            tmp_path / "incomplete.npz", bias_0=None
        ): r"is not a valid model file: expected \['weights_0', 'bias_0'\] and record, found",
        model_file(
            tmp_path / "broken.npz", weights_0=np.full((784, 10), np.nan)
        ): "is not a valid model file: weights_0 holds NaN or infinite values",
        model_file(tmp_path / "huge.npz", weights_0=np.full((784, 10), 1e300)):  # inf in float32
        "is not a valid model file: weights_0 holds NaN or infinite values",
        model_file(
            tmp_path / "ints.npz", weights_0=np.zeros((784, 10), np.int64)
        ): r"is not a valid model file: weights_0 is int64 \(784, 10\), not \(784, 10\) floats",
        model_file(
            tmp_path / "extra.npz", payload=np.zeros(10)
        ): "is not a valid model file: expected .* and record, found",
        model_file(
            tmp_path / "giant.npz",
            layer_sizes=np.array([784, 300_000, 10]),
            weights_0=None,
            bias_0=None,
        ): "is not a valid model file: expected",
        model_file(
            tmp_path / "giant2.npz",
            layer_sizes=np.array([784, 300_000, 10]),
            weights_1=np.zeros(1),
            bias_1=np.zeros(1),
        ): "is not a valid model file: layer sizes .* over 50,000,000 parameters",
        model_file(
            tmp_path / "zero.npz",
            layer_sizes=np.array([784, 0, 10]),
            weights_1=np.zeros(1),
            bias_1=np.zeros(1),
        ): r"is not a valid model file: layer sizes must be at least two numbers >= 1, "
        r"got \[784, 0, 10\]",
        model_file(
            tmp_path / "floats.npz", layer_sizes=np.array([784.0, 10.0])
        ): r"is not a valid model file: layer_sizes is float64 \(2,\)",
    }
    for path, message in cases.items():
        with pytest.raises(nn.InputError, match=f"^{tmp_path / path.name} {message}"):
            nn.NeuralNetwork.load(path)


def test_a_failed_save_keeps_the_old_model(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nn.NeuralNetwork(seed=1).save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)  # fails after the temporary file was opened
    with pytest.raises(
        nn.InputError, match=r"^cannot write .*model.npz: disk full; choose another place$"
    ):
        nn.NeuralNetwork(seed=2).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_fit_checks_its_data(small_split):
    X_train, y_train = small_split[0][:200], small_split[1][:200]
    network = nn.NeuralNetwork()
    with pytest.raises(
        ValueError, match=r"^expected 200 labels, one per image, got shape \(199,\)$"
    ):
        nn.train(
            network, X_train, y_train[:199], config=nn.TrainConfig(epochs=1), log=lambda line: None
        )
    with pytest.raises(ValueError, match=r"^labels must be whole numbers 0-9$"):
        nn.train(
            network, X_train, y_train + 1.0, config=nn.TrainConfig(epochs=1), log=lambda line: None
        )
    with pytest.raises(ValueError, match=r"^expected an array \(N, 784\)"):
        nn.train(
            network,
            X_train.reshape(-1, 28, 28),
            y_train,
            config=nn.TrainConfig(epochs=1),
            log=lambda line: None,
        )
    # float64 input is accepted and trained in float32
    nn.train(
        network,
        X_train.astype(np.float64),
        y_train,
        config=nn.TrainConfig(epochs=1),
        log=lambda line: None,
    )
    assert all(p.dtype == np.float32 for p in network.parameters())


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
