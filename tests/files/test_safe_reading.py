"""src/files/safe_reading.py: regular files only, and bounded reads of what a user names."""

import gzip
import os
import time

import pytest
from conftest import TRAIN_HEADER, one_error_line

import NN_Numpy as nn
from files import kaggle_csv, safe_reading


def test_training_on_a_fifo_does_not_hang(tmp_path, capsys):
    os.mkfifo(tmp_path / "train.csv")
    assert (
        nn.main(["--data-dir", str(tmp_path), "--no-plots", "--model", str(tmp_path / "m.npz")])
        == 1
    )
    assert (
        one_error_line(capsys)
        == f"error: {tmp_path / 'train.csv'} is not a regular file (a folder, pipe or device)"
    )


# Issue #12, item 7: small inputs cannot amplify without bound


def test_a_gzip_bomb_is_refused_after_a_bounded_read(tmp_path, monkeypatch):
    monkeypatch.setattr(safe_reading, "MAX_CSV_BYTES", 2**20)  # 1 MiB, so that the test is quick
    header = ",".join(TRAIN_HEADER).encode() + b"\n"
    bomb = tmp_path / "train.csv.gz"
    bomb.write_bytes(gzip.compress(header + (b"0," * 784 + b"0\n") * 5000))  # 7.9 MB of text
    with pytest.raises(
        nn.InputError,
        match=r"train.csv.gz: over 1 MB of text, more than a CSV of 28x28 images holds",
    ):
        kaggle_csv.read_digits_csv(bomb)


def test_a_huge_sparse_file_is_refused_without_reading_it(tmp_path):
    huge = tmp_path / "train.csv"
    with open(huge, "wb") as f:
        f.truncate(3 * 2**30)  # 3 GiB of NUL bytes, sparse: no disk used
    start = time.perf_counter()
    with pytest.raises(nn.InputError, match=r"train.csv: over 256 MB of text"):
        kaggle_csv.read_digits_csv(huge)
    assert time.perf_counter() - start < 5
