"""python src/use_network.py gradcheck: backpropagation against finite differences."""

import re

import NN_Numpy as nn
import use_network as un


def test_gradcheck_command_passes_on_the_real_network(capsys):
    assert un.main(["gradcheck", "--entries", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "Gradient check: network 784-128-64-10, initial weights, float64, a batch of 8 real "
        "training images"
    )
    assert [line.split()[0] for line in out[1:7]] == [
        "weights_0",
        "bias_0",
        "weights_1",
        "bias_1",
        "weights_2",
        "bias_2",
    ]
    assert all(line.endswith("ok") for line in out[1:7])
    assert re.fullmatch(r"PASS: largest relative error \d\.\d\de-\d\d \(< 1e-06\)", out[7])


def test_gradcheck_catches_a_wrong_derivative(monkeypatch, capsys):
    monkeypatch.setitem(
        nn.ACTIVATIONS, "relu", (nn.relu, lambda grad_output, output: grad_output)
    )  # forgets relu'
    assert un.main(["gradcheck", "--entries", "10"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: largest relative error" in out and "weights_0" in out


def test_gradcheck_at_a_trained_models_weights(tmp_path, small_split, capsys):
    network = nn.NeuralNetwork(seed=2)
    nn.train(
        network,
        small_split[0][:1000],
        small_split[1][:1000],
        config=nn.TrainConfig(epochs=2),
        log=lambda line: None,
    )
    network.save(tmp_path / "m.npz")
    assert un.main(["gradcheck", "--entries", "5", "--model", str(tmp_path / "m.npz")]) == 0
    assert f"weights of {tmp_path / 'm.npz'}" in capsys.readouterr().out
