"""src/files/model_file.py: a model file written whole, read with every array checked."""

import io
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import RETRAIN, one_error_line

import NN_Numpy as nn
import use_network as un


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


QUICK = ["--limit", "600", "--epochs", "1", "--no-plots"]


# Issue #12, item 2: a model file cannot lie


def test_model_files_are_checked_before_anything_big_is_allocated(tmp_path):
    cases = {
        "sizes_only.npz": dict(layer_sizes=np.array([784, 300_000, 10]), record=np.array("{}")),
        "two_billion.npz": dict(
            layer_sizes=np.array([784, 2_000_000_000, 10]),
            record=np.array("{}"),
            weights_0=np.zeros(1),
            bias_0=np.zeros(1),
            weights_1=np.zeros(1),
            bias_1=np.zeros(1),
        ),
        "zero_width.npz": dict(
            layer_sizes=np.array([784, 0, 5, 10]),
            record=np.array("{}"),
            **{f"{k}_{i}": np.zeros(1) for i in range(3) for k in ("weights", "bias")},
        ),
    }
    for name, arrays in cases.items():
        np.savez(tmp_path / name, **arrays)
    bloated = tmp_path / "bloated.npz"  # a valid model plus 800 MB of zeros, deflated to 800 kB
    nn.NeuralNetwork([784, 10]).save(tmp_path / "valid.npz")
    with np.load(tmp_path / "valid.npz") as valid:
        np.savez_compressed(bloated, **dict(valid), extra=np.zeros(100_000_000))
    tracemalloc.start()
    for name in [*cases, "bloated.npz"]:
        with pytest.raises(nn.InputError, match=rf"^{tmp_path / name} is not a valid model file: "):
            nn.NeuralNetwork.load(tmp_path / name)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20e6, peak  # none was read into memory


def test_float64_weights_that_overflow_float32_are_refused(tmp_path):
    nn.NeuralNetwork([784, 10]).save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as valid:
        arrays = dict(valid)
    np.savez(tmp_path / "huge.npz", **{**arrays, "weights_0": np.full((784, 10), 1e300)})
    with pytest.raises(nn.InputError, match="weights_0 holds NaN or infinite values"):
        nn.NeuralNetwork.load(tmp_path / "huge.npz")


# Issue #12, item 5: the model and its run record are one unit


def test_a_failed_run_leaves_the_old_model_and_its_record_together(model, tmp_path, capsys):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    assert nn.main([*QUICK, "--learning-rate", "1e5", "--model", str(copy)]) == 1
    assert copy.read_bytes() == model.read_bytes()
    assert nn.NeuralNetwork.load(copy).record["settings"]["learning_rate"] == 0.1  # the old run's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no separate record to drift


@pytest.mark.parametrize(
    "content", [b"label,pixel0\n1,2\n", b'{"layers": 3}', b"\x89PNG\r\n\x1a\n...."]
)
def test_a_file_that_is_not_a_model(tmp_path, capsys, content):
    (tmp_path / "m.npz").write_bytes(content)
    assert un.main(["predict", "x.png", "--model", str(tmp_path / "m.npz")]) == 1
    assert (
        one_error_line(capsys)
        == f"error: {tmp_path / 'm.npz'} is not a model saved by NN_Numpy.py (not an .npz archive)"
    )


# Issue #21, item 5: weights whose outputs cannot be finite


def save_weights(path: Path, value: float, dtype) -> Path:
    nn.NeuralNetwork([784, 10]).save(path)
    with np.load(path) as data:
        arrays = dict(data)
    arrays["weights_0"] = np.full((784, 10), value, dtype)
    np.savez(path, **arrays)
    return path


def test_weights_that_overflow_the_logits_are_refused_by_every_command(tmp_path, capsys):
    path = save_weights(tmp_path / "huge.npz", 3e38, np.float32)  # finite, but x @ W is not
    message = (
        f"{path} is not a valid model file: its weights are too large: layer 1 can output values "
        "up to 2.4e+41 for pixels in [0, 1], beyond float32's 3.4e+38, so its logits can be "
        f"infinite; {RETRAIN}"
    )
    for dtype in (np.float32, np.float64):
        with pytest.raises(nn.InputError) as info:
            nn.NeuralNetwork.load(path, dtype)
        assert str(info.value) == message
    assert un.main(["predict", str(tmp_path / "x.png"), "--model", str(path)]) == 1
    assert one_error_line(capsys) == f"error: {message}"


def test_gradcheck_refuses_a_model_every_other_command_refuses(tmp_path, capsys):
    path = save_weights(tmp_path / "m.npz", 1e300, np.float64)
    for argv in (["gradcheck", "--model", str(path)], ["predict", "x.png", "--model", str(path)]):
        assert un.main(argv) == 1
        assert one_error_line(capsys) == (
            f"error: {path} is not a valid model file: weights_0 holds NaN or infinite values "
            "(in float32)"
        )


# Issue #21, item 6: sizes claimed by headers are checked before anything is allocated


def npy_member(shape, descr="<f8", payload=b"\0" * 64) -> bytes:
    """A .npy file whose header claims `shape`, followed by `payload` only."""
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        f, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return f.getvalue() + payload


@pytest.mark.parametrize(
    "member, shape, descr, message",
    [
        (
            "weights_0",
            (784, 10),
            "<f8",
            "weights_0's header says float64 (784, 10) (62,848 bytes) but it holds 192 bytes",
        ),
        (
            "weights_0",
            (50_000, 40_000),
            "<f8",
            "weights_0's header says float64 (50000, 40000) (16,000,000,128 bytes) but it holds "
            "192 bytes",
        ),
        (
            "record",
            (),
            "<U100000000",
            "record's header says <U100000000 () (400,000,128 bytes) but it holds 192 bytes",
        ),
        (
            "layer_sizes",
            (2_000_000_000,),
            "<i8",
            "layer_sizes's header says int64 (2000000000,) (16,000,000,128 bytes) but it holds "
            "192 bytes",
        ),
    ],
)
def test_a_npy_header_claiming_more_than_its_member_holds_allocates_nothing(
    tmp_path, member, shape, descr, message
):
    nn.NeuralNetwork([784, 10]).save(tmp_path / "valid.npz")
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(tmp_path / "valid.npz") as valid, zipfile.ZipFile(path, "w") as out:
        for info in valid.infolist():
            data = valid.read(info)
            if info.filename == f"{member}.npy":
                data = npy_member(shape, descr)
            out.writestr(info.filename, data)
    tracemalloc.start()
    with pytest.raises(nn.InputError) as info:
        nn.NeuralNetwork.load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value) == f"{path} is not a valid model file: {message}"
    assert peak < 20e6, peak
