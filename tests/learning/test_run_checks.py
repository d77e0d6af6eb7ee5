"""src/learning/run_checks.py: a run's arrays and settings checked, the divergence line."""

import numpy as np
import pytest

import NN_Numpy as nn
from learning import run_checks


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


def test_divergence_caused_by_weight_decay_names_weight_decay(capsys, tmp_path):
    argv = ["--limit", "3000", "--epochs", "1", "--no-plots", "--weight-decay", "1e4"]
    assert nn.main([*argv, "--model", str(tmp_path / "m.npz")]) == 1
    assert "try a smaller weight decay (--weight-decay 1000)" in capsys.readouterr().err


def test_bad_strengths_are_refused():
    with pytest.raises(ValueError, match=r"^--elastic must be 0-10, got -1$"):
        nn.TrainConfig(elastic=-1)
    with pytest.raises(ValueError, match=r"^--affine must be 0-10, got 11$"):
        nn.TrainConfig(affine=11)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match=r"^--weight-decay must be >= 0, got -1$"):
        nn.TrainConfig(weight_decay=-1)
    with pytest.raises(ValueError, match=r"^--optimizer must be 'sgd' or 'adam', got rmsprop$"):
        nn.TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match=r"^--seed must be 0 to 2\*\*32 - 1, got -1$"):
        nn.TrainConfig(seed=-1)
