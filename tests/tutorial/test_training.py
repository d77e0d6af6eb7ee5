"""NN_Numpy.py: training on real MNIST rows, determinism, divergence, evaluation."""

import numpy as np
import pytest

import NN_Numpy as nn

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


def test_train_adds_the_share_of_non_digits_to_the_rows_it_trains_on(small_split):
    X, y = small_split[0][:500], small_split[1][:500]

    class Seen(nn.TrainingHook):
        def train_started(self, network, X_train, y_train, X_val, y_val):
            self.X, self.y = X_train, y_train

        def batch_done(self, images, labels, loss, network, optimizer):
            raise nn.StopTraining  # the rows are all this test needs

    for share, added in [(0.1, 50), (0.0, 0)]:
        seen = Seen()
        config = nn.TrainConfig(epochs=1, negatives=share)
        nn.train(nn.NeuralNetwork([784, 8, 10]), X, y, config=config, log=str, hook=seen)
        assert len(seen.X) == 500 + added and (seen.y == nn.NOT_A_DIGIT).sum() == added
        np.testing.assert_array_equal(seen.X[:500], X)  # the digits first, untouched
    with pytest.raises(ValueError, match=r"^--negatives must be 0-1 \(a share of the rows\)"):
        nn.TrainConfig(negatives=1.5)


def test_zero_initial_weights_keep_every_unit_the_same(small_split):
    """--init zero: the symmetry no unit can break. Every first-layer unit starts equal and gets
    the same gradient; with ReLU, none at all (relu passes no gradient at z = 0)."""
    X_train, y_train, X_val, y_val = small_split
    network = nn.NeuralNetwork(seed=0, init="zero")
    assert all(not layer.weights.any() for layer in network.layers)
    config = nn.TrainConfig(epochs=2, init="zero")
    nn.train(network, X_train, y_train, X_val, y_val, config, log=lambda line: None)
    weights = network.layers[0].weights  # (784, 128): one column a unit
    assert (weights == weights[:, :1]).all()  # all 128 pictures the same
    assert network.accuracy(X_val, y_val) < 0.2  # it cannot learn more than the commonest digit
    he = nn.NeuralNetwork(seed=0)  # the default: the same random draws as ever
    assert np.std(he.layers[0].weights) == pytest.approx(np.sqrt(2 / 784), rel=0.02)


@pytest.mark.parametrize(
    "options, sizes, activation",
    [
        (["--activation", "sigmoid"], [784, 128, 64, 10], "sigmoid"),
        (["--hidden", "32", "16"], [784, 32, 16, 10], "relu"),
        (["--init", "zero"], [784, 128, 64, 10], "relu"),
    ],
)
def test_the_new_settings_train_save_and_load_back(tmp_path, options, sizes, activation):
    path = tmp_path / "model.npz"
    argv = ["--limit", "1500", "--epochs", "1", "--no-plots", "--model", str(path), *options]
    assert nn.main(argv) == 0
    network = nn.NeuralNetwork.load(path)
    assert network.layer_sizes == sizes
    assert [layer.activation for layer in network.layers[:-1]] == [activation] * 2
    settings = network.record["settings"]
    assert settings["activation"] == activation
    assert settings["init"] == ("zero" if "--init" in options else "he")
    # read back, it answers as at training time: the record's accuracy on the same rows
    data = nn.load_split(None, nn.TrainConfig(limit=1500))
    accuracy = network.accuracy(data["X_val"], data["y_val"])
    assert accuracy == network.record["metrics"]["accuracy"]
