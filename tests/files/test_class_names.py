"""src/files/class_names.py: the class names, --classes FILE read as a hostile file."""

import os
import signal
import tracemalloc
from pathlib import Path

import pytest
from conftest import DIGITS, QUICK, one_error_line, train, write_idx_pair

import NN_Numpy as nn
import use_network as un
from files import class_names


def test_a_names_file_on_the_command_line(tmp_path, mnist, capsys):
    pixels, labels = mnist
    write_idx_pair(tmp_path / "data", "train", pixels[:300], labels[:300])
    names = [f"class {k}" for k in range(10)]
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n\n")
    assert train(tmp_path / "data", tmp_path, "--classes", tmp_path / "names.txt") == 0
    assert capsys.readouterr().out.splitlines()[1] == "Classes: " + ", ".join(names)
    assert nn.NeuralNetwork.load(tmp_path / "model.npz").record["data"]["classes"] == names
    assert train(tmp_path / "data", tmp_path, "--classes", "digits") == 0
    assert capsys.readouterr().out.splitlines()[1] == f"Classes: {DIGITS}"

    (tmp_path / "nine.txt").write_text("\n".join(names[:9]))
    assert train(tmp_path / "data", tmp_path, "--classes", tmp_path / "nine.txt") == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path}/nine.txt: expected 10 class names, one per line, found 9\n"
    )
    assert train(tmp_path / "data", tmp_path, "--classes", "fasion") == 1
    assert capsys.readouterr().err == (
        "error: --classes fasion: not digits, fashion or a readable file of names "
        "(No such file or directory)\n"
    )


@pytest.fixture
def within_seconds():
    """Fail a test that blocks (a FIFO opened for reading waits for a writer) instead of hanging."""

    def timeout(signum, frame):
        raise TimeoutError("blocked")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# Issue #21, item 3: --classes FILE is read as every input is


def test_a_names_file_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path, within_seconds):
    os.mkfifo(tmp_path / "fifo")
    for path in (tmp_path / "fifo", Path("/dev/zero"), tmp_path):
        with pytest.raises(nn.InputError) as info:
            class_names.class_names(str(path))
        assert str(info.value) == (
            f"--classes {path}: not digits, fashion or a readable file of names (a folder, "
            "pipe or device, not a regular file)"
        )


def test_a_large_names_file_is_refused_after_reading_4_kb(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(100 * 2**20)  # 100 MB, sparse
    tracemalloc.start()
    with pytest.raises(nn.InputError) as info:
        class_names.class_names(str(big))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value) == (
        f"--classes {big}: not digits, fashion or a readable file of names (over 4,096 bytes, "
        "more than 10 names of 30 characters)"
    )
    assert peak < 1e6, peak


# Issue #21, item 4: class names are text, drawn literally


@pytest.mark.parametrize(
    "name, problem",
    [
        ("\x1b[2Jcat", "class name '\\x1b[2Jcat' holds a control character (U+001B)"),
        ("dog\u202egod", "class name 'dog\\u202egod' holds a control character (U+202E)"),
        ("bell\x07", "class name 'bell\\x07' holds a control character (U+0007)"),
    ],
)
def test_names_with_control_characters_are_refused(tmp_path, capsys, name, problem):
    names = [name] + [f"class {k}" for k in range(1, 10)]
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n")
    argv = [*QUICK, "--classes", str(tmp_path / "names.txt"), "--model", str(tmp_path / "m.npz")]
    assert nn.main(argv) == 1
    assert one_error_line(capsys) == (
        f"error: {tmp_path / 'names.txt'}, line 1: {problem}; names are plain text"
    )
    assert not (tmp_path / "m.npz").exists()


def test_a_name_like_math_is_drawn_letter_for_letter(tmp_path, capsys):
    # matplotlib reads text between two "$" as math: r"$\bad0$" crashed the figures with a
    # traceback after the model was saved. Every figure that shows a class name draws it as it is.
    names = [r"$\bad0$"] + [f"class {k}" for k in range(1, 10)]
    (tmp_path / "names.txt").write_text("\n".join(names) + "\n")
    model, figures = tmp_path / "m.npz", tmp_path / "figures"
    train = ["--limit", "600", "--epochs", "2", "--classes", str(tmp_path / "names.txt")]
    assert nn.main([*train, "--model", str(model), "--figures-dir", str(figures)]) == 0
    assert un.main(["report", "--model", str(model), "--figures-dir", str(figures)]) == 0
    assert "confusion_matrix.png" in {path.name for path in figures.iterdir()}
    assert r"$\bad0$" in capsys.readouterr().out  # printed as it is, too
