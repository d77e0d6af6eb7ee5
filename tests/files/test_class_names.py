"""src/files/class_names.py: the class names, --classes FILE read as a hostile file."""

from conftest import DIGITS, train, write_idx_pair

import NN_Numpy as nn


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
