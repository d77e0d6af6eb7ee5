"""src/files/mnist_folders.py: MNIST's IDX folders and Kaggle's Fashion-MNIST CSVs."""

import gzip
import hashlib
import re
import struct
import tracemalloc

import numpy as np
import pytest
from conftest import DIGITS, train, write_fashion_csv, write_idx, write_idx_pair

import NN_Numpy as nn
import use_network as un
from files import mnist_folders

FASHION = "T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot"


def test_training_from_gzipped_idx_files_reports_the_official_test_set(tmp_path, mnist, capsys):
    pixels, labels = mnist
    folder = tmp_path / "mnist"
    images, label_file = write_idx_pair(folder, "train", pixels[:1000], labels[:1000])
    write_idx_pair(folder, "t10k", pixels[40000:40500], labels[40000:40500])
    assert train(folder, tmp_path) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"Data: {folder}/train-images-idx3-ubyte.gz + train-labels-idx1-ubyte.gz (MNIST IDX "
        "files), 1,000 rows; test set: 500 labelled rows"
    )
    assert out[1] == f"Classes: {DIGITS}"
    assert out[2] == "Split: 800 training, 200 validation rows (stratified)"
    test_line = next(line for line in out if line.startswith("Test Accuracy"))
    assert re.fullmatch(r"Test Accuracy: \d+\.\d\d% \(500 labelled test rows\)", test_line)
    record = nn.NeuralNetwork.load(tmp_path / "model.npz").record
    assert test_line.split()[2] == f"{100 * record['metrics']['test_accuracy']:.2f}%"
    assert record["metrics"]["test_accuracy"] > 0.3  # above chance (10%) after one short epoch
    assert record["data"]["classes"] == list("0123456789")
    assert record["data"]["path"] == str(images)
    digest = hashlib.sha256(images.read_bytes() + label_file.read_bytes()).hexdigest()
    assert record["data"]["sha256"] == digest


def test_idx_rows_are_the_csv_rows_uint8_one_image_per_contiguous_row(tmp_path, mnist):
    pixels, labels = mnist
    for gz in (True, False):
        folder = tmp_path / f"gz{gz}"
        write_idx_pair(folder, "train", pixels[:300], labels[:300], gz=gz)
        data, got_pixels, got_labels = mnist_folders.read_folder(folder)
        np.testing.assert_array_equal(got_pixels, pixels[:300])
        np.testing.assert_array_equal(got_labels, labels[:300])
        assert got_pixels.dtype == np.uint8 and got_pixels.flags.c_contiguous
        assert got_labels.dtype == np.int64 and "X_test" not in data


def test_plain_idx_files_in_a_fashion_folder_and_predict_refuses_the_model(tmp_path, mnist, capsys):
    pixels, labels = mnist
    folder = tmp_path / "fashion"  # zalando's IDX files have MNIST's names, in data/fashion
    write_idx_pair(folder, "train", pixels[:600], labels[:600], gz=False)
    assert train(folder, tmp_path) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"Data: {folder}/train-images-idx3-ubyte + train-labels-idx1-ubyte (Fashion-MNIST IDX "
        "files), 600 rows"
    )
    assert out[1] == f"Classes: {FASHION}"
    assert not any(line.startswith("Test Accuracy") for line in out)  # no t10k files
    model = tmp_path / "model.npz"
    assert nn.NeuralNetwork.load(model).record["data"]["classes"] == FASHION.split(", ")

    # Every command that reads digits refuses it, with the same check (issue #21, item 9:
    # submit used to write a digit submission from it and exit 0).
    submission = tmp_path / "submission.csv"
    digit_commands = [
        ("predict", ["predict", "photo.png"]),
        ("submit", ["submit", "--out", str(submission)]),
        ("the drawing page", ["draw", "--no-browser", "--port", "0"]),
    ]
    for what, argv in digit_commands:
        assert un.main([*argv, "--model", str(model)]) == 1
        assert capsys.readouterr().err == (
            f"error: {model} classifies T-shirt/top, Trouser, Pullover, ... (not the digits "
            f"0-9); {what} reads handwritten digits only: use a model trained on digits\n"
        )
    assert not submission.exists()

    figures = tmp_path / "figures"
    assert un.main(["report", "--model", str(model), "--figures-dir", str(figures)]) == 0
    out = capsys.readouterr().out
    assert f"Classes: {FASHION}\n" in out and "Accuracy on 120 validation images" in out
    assert re.search(r"\n +Ankle boot +\d\.\d{4}", out)  # the per-class table, by name
    assert {p.name for p in figures.iterdir()} >= {"confusion_matrix.png", "predictions.png"}


def test_training_from_fashion_mnist_csvs_reports_their_labelled_test_file(tmp_path, mnist, capsys):
    pixels, labels = mnist
    folder = tmp_path / "kaggle"
    folder.mkdir()
    write_fashion_csv(folder / "fashion-mnist_train.csv", pixels[:500], labels[:500])
    write_fashion_csv(folder / "fashion-mnist_test.csv", pixels[500:700], labels[500:700])
    assert train(folder, tmp_path) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"Data: {folder}/fashion-mnist_train.csv (Kaggle's Fashion-MNIST CSV), 500 rows; "
        "test set: 200 labelled rows"
    )
    assert out[1] == f"Classes: {FASHION}"
    assert any(re.fullmatch(r"Test Accuracy: .*% \(200 labelled test rows\)", s) for s in out)
    _, got_pixels, got_labels = mnist_folders.read_folder(folder)
    np.testing.assert_array_equal(got_pixels, pixels[:500])  # pixel1 is the top-left pixel
    assert got_pixels.flags.c_contiguous and got_labels.tolist() == labels[:500].tolist()


# --- Bad IDX files: one line naming the file and what is wrong, exit status 1 --------------

GOOD_IMAGES = np.zeros((3, 784), np.uint8).tobytes()


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
@pytest.mark.parametrize(
    "name, header, payload, message",
    [
        (
            "truncated",
            [0x803, 3, 28, 28],
            GOOD_IMAGES[:-1],
            "truncated: its header says 3 images (2,352 bytes after the header), the file "
            "holds 2,351",
        ),
        (
            "over-long",
            [0x803, 3, 28, 28],
            GOOD_IMAGES + b"\0",
            "over-long: more than the 2,352 bytes of the 3 images its header says",
        ),
        (
            "wrong magic",
            [0x801, 3, 28, 28],
            GOOD_IMAGES,
            "not an IDX file of images (magic number 0x00000801, expected 0x00000803)",
        ),
        (
            "wrong dims",
            [0x803, 3, 32, 32],
            bytes(3 * 32 * 32),
            "images of 32x32 pixels, expected 28x28",
        ),
        (
            "short header",
            [0x803, 3],
            b"",
            "truncated: 8 bytes, shorter than the 16-byte header of an IDX images file",
        ),
        ("no images", [0x803, 0, 28, 28], b"", "its header says it holds no images"),
    ],
)
def test_bad_idx_images_are_refused(tmp_path, name, header, payload, message, gz):
    ext = ".gz" if gz else ""
    images = write_idx(tmp_path / f"train-images-idx3-ubyte{ext}", header, payload)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{ext}", [0x801, 3], bytes(3))
    with pytest.raises(nn.InputError) as info:
        mnist_folders.read_folder(tmp_path)
    assert str(info.value) == f"{images}: {message}"


def test_bad_idx_labels_and_pairs_are_refused(tmp_path, capsys):
    images = write_idx(tmp_path / "train-images-idx3-ubyte", [0x803, 3, 28, 28], GOOD_IMAGES)
    labels = write_idx(tmp_path / "train-labels-idx1-ubyte", [0x801, 2], bytes(2))

    def error() -> str:
        assert train(tmp_path, tmp_path) == 1  # through the command line: one line, status 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        return err.removeprefix("error: ").rstrip("\n")

    assert error() == f"{images} holds 3 images but {labels} holds 2 labels"
    write_idx(labels, [0x801, 3], bytes([1, 12, 3]))
    assert error() == f"{labels}: label 12 of item 2 is not 0-9"
    write_idx(labels, [0x803, 3, 28, 28], GOOD_IMAGES)
    assert error() == (
        f"{labels}: not an IDX file of labels (magic number 0x00000803, expected 0x00000801)"
    )
    labels.unlink()
    assert error() == f"{tmp_path}: found train-images-idx3-ubyte but not train-labels-idx1-ubyte"
    write_idx(labels, [0x801, 3], bytes(3))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", [0x801, 3], bytes(3))
    assert error() == (
        f"{tmp_path}: found t10k-labels-idx1-ubyte.gz but not t10k-images-idx3-ubyte.gz"
    )
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b not gzip")
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", [0x803, 3, 28, 28], GOOD_IMAGES)
    assert error().startswith(f"{tmp_path}/t10k-labels-idx1-ubyte.gz: could not be read (")


def test_nothing_to_read_says_what_was_looked_for(tmp_path, capsys):
    assert train(tmp_path, tmp_path) == 1
    assert capsys.readouterr().err == (
        f"error: no training data found in {tmp_path}: looked for Kaggle's train.csv[.gz], "
        "MNIST's train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz] and Kaggle's "
        "fashion-mnist_train.csv[.gz]\n"
    )
    assert train(tmp_path / "missing", tmp_path) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing'}: no such folder\n"


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_a_header_claiming_2_to_the_31_images_allocates_nothing(tmp_path, gz):
    path = write_idx(tmp_path / f"x-idx3-ubyte{'.gz' * gz}", [0x803, 2**31, 28, 28], bytes(784))
    tracemalloc.start()
    try:
        with pytest.raises(nn.InputError) as info:
            mnist_folders.read_idx(path, "images")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        f"{path}: truncated: its header says 2,147,483,648 images (1,683,627,180,032 bytes "
        "after the header), the file holds 784"
    )
    assert peak < 4_000_000  # bytes: the 784 that are there and a 1 MiB read, not 1.7 TB


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_more_images_than_the_cap_are_refused(tmp_path, monkeypatch, gz):
    # a file that really holds more images than the cap (as a "zip bomb" would): a plain one
    # is refused from its size, a gzip stream once cap + 1 bytes are read, whatever follows
    monkeypatch.setattr(mnist_folders, "MAX_ROWS", 10)
    path = write_idx(tmp_path / f"x-idx3-ubyte{'.gz' * gz}", [0x803, 11, 28, 28], bytes(11 * 784))
    with pytest.raises(nn.InputError) as info:
        mnist_folders.read_idx(path, "images")
    assert str(info.value) == f"{path}: its header says 11 images, more than 10"


def test_bad_value_in_a_fashion_csv_names_line_and_column(tmp_path, mnist):
    pixels, labels = mnist
    rows = pixels[:4].astype(np.int64)
    rows[2, 9] = 300  # line 4 of the file, column pixel10
    path = write_fashion_csv(tmp_path / "fashion-mnist_train.csv", rows, labels[:4])
    with pytest.raises(nn.InputError) as info:
        mnist_folders.read_folder(tmp_path)
    assert str(info.value) == (
        f"{path}, line 4, column 'pixel10': pixel value 300 is not an integer 0-255"
    )


def test_idx_images_beyond_the_memory_there_is_are_refused_from_the_header(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_folders, "available_memory", lambda: 4 * 2**30)  # a 4 GiB machine
    folder = tmp_path / "data"
    folder.mkdir()
    header = struct.pack(">4I", 0x803, 1_000_000, 28, 28)  # the documented maximum...
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header))  # ...claimed
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(struct.pack(">2I", 0x801, 1_000_000))
    )
    tracemalloc.start()
    with pytest.raises(nn.InputError) as info:
        mnist_folders.read_folder(folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value) == (
        f"{folder / 'train-images-idx3-ubyte.gz'}: its header says 1,000,000 images; training "
        "on them takes about 7.5 GiB of memory and 4.0 GiB is available; use a file of fewer "
        "images, or a machine with more memory"
    )
    assert peak < 5e6, peak  # sha256's 1 MiB chunks: nothing of the claimed 784 MB


def test_available_memory_is_known_on_linux():
    assert 0 < mnist_folders.available_memory() < 2**50
