"""src/files/model_file.py: a model file written whole, read with every array checked."""

import numpy as np
import pytest

import NN_Numpy as nn


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
