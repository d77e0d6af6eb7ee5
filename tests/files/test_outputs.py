"""src/files/outputs.py: outputs never over an input or a special file, each written whole."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import QUICK, SRC, TRAIN_HEADER, one_error_line, write_csv

import NN_Numpy as nn
import use_network as un
from files import outputs, paths, safe_reading

# Issue #12, item 1: outputs never overwrite inputs or special files


def test_submit_refuses_to_write_over_its_own_model(model, tmp_path, capsys):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    assert un.main(["submit", "--model", str(copy), "--out", str(copy)]) == 1
    assert (
        one_error_line(capsys)
        == f"error: {copy} is also read by this run; write the output elsewhere"
    )
    assert copy.read_bytes() == model.read_bytes()


def test_training_refuses_to_write_the_model_over_its_data(tmp_path, capsys):
    source = write_csv(
        tmp_path / "train.csv", TRAIN_HEADER, [[d % 10] + [d] * 784 for d in range(30)]
    )
    before = source.read_bytes()
    assert nn.main(["--data-dir", str(tmp_path), "--model", str(source), "--no-plots"]) == 1
    assert one_error_line(capsys).endswith(
        "train.csv is also read by this run; write the output elsewhere"
    )
    assert source.read_bytes() == before


def test_the_model_and_a_figure_cannot_share_a_file(tmp_path, capsys):
    figures = tmp_path / "figs"
    argv = [
        "--limit",
        "600",
        "--epochs",
        "1",
        "--model",
        str(figures / "predictions.png"),
        "--figures-dir",
        str(figures),
    ]
    assert nn.main(argv) == 1
    assert one_error_line(capsys).endswith(
        "predictions.png is named for two outputs; give each its own file"
    )
    assert not figures.exists()


@pytest.mark.parametrize("target", ["/dev/null", "folder", "fifo"])
def test_special_files_are_never_replaced(model, tmp_path, capsys, target):
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    out = Path(target) if target.startswith("/") else tmp_path / target
    link = tmp_path / "link.csv"
    link.symlink_to(out)
    for path in (out, link):
        assert un.main(["submit", "--model", str(model), "--out", str(path)]) == 1
        assert one_error_line(capsys).endswith(
            "exists and is not a regular file; choose a file name"
        )
    assert Path("/dev/null").is_char_device() and (tmp_path / "fifo").is_fifo()


def test_standard_output_through_proc_is_not_replaced(model, tmp_path):
    # run as a user would, with stdout a pipe: /proc/self/fd/1 leads to it
    result = subprocess.run(
        [
            sys.executable,
            str(SRC / "use_network.py"),
            "submit",
            "--model",
            str(model),
            "--out",
            "/proc/self/fd/1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert (
        result.stderr
        == "error: /proc/self/fd/1 exists and is not a regular file; choose a file name\n"
    )


def test_a_link_to_a_regular_file_is_written_through(model, tmp_path):
    target, link = tmp_path / "real.csv", tmp_path / "link.csv"
    target.write_text("old")
    link.symlink_to(target)
    assert un.main(["submit", "--model", str(model), "--out", str(link)]) == 0
    assert link.is_symlink() and target.read_text().startswith("ImageId,Label\n")


# Issue #12, item 6: no data cache to trust; outputs no wider than the umask allows


def test_training_reads_the_file_itself_and_outputs_follow_the_umask(tmp_path):
    rows = [[d % 10] + [(d * 7) % 256] * 784 for d in range(60)]
    (tmp_path / "data").mkdir()
    source = write_csv(tmp_path / "data" / "train.csv", TRAIN_HEADER, rows)
    old = os.umask(0o077)
    try:
        assert (
            nn.main(
                [
                    "--data-dir",
                    str(source.parent),
                    "--epochs",
                    "1",
                    "--no-plots",
                    "--model",
                    str(tmp_path / "m.npz"),
                ]
            )
            == 0
        )
    finally:
        os.umask(old)
    assert sorted(p.name for p in source.parent.iterdir()) == [
        "train.csv"
    ]  # nothing cached beside it
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o600
    record = nn.NeuralNetwork.load(tmp_path / "m.npz").record
    assert record["data"]["sha256"] == safe_reading.sha256(source)


# Issue #12, item 9: messages that help


def test_a_full_disk_names_the_file(model, tmp_path, monkeypatch, capsys):
    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    assert un.main(["submit", "--model", str(model), "--out", str(tmp_path / "s.csv")]) == 1
    message = "No space left on device; choose another place"
    assert one_error_line(capsys) == f"error: cannot write {tmp_path / 's.csv'}: {message}"
    assert list(tmp_path.iterdir()) == []  # and no temporary file is left


# Issue #21, item 2: symbolic link loops


def test_an_output_in_a_link_loop_is_one_line_and_nothing_is_written(model, tmp_path, capsys):
    (tmp_path / "loop").symlink_to("loop")
    out = tmp_path / "loop" / "s.csv"
    loop = f"{out}: a symbolic link loop (a link that leads back to itself); point it at a "
    loop += "real file or folder"
    assert un.main(["submit", "--model", str(model), "--out", str(out)]) == 1
    assert one_error_line(capsys) == f"error: {loop}"
    assert nn.main([*QUICK, "--model", str(out)]) == 1
    assert one_error_line(capsys) == f"error: {loop}"
    with pytest.raises(nn.InputError, match="a symbolic link loop"), outputs.atomic_write(out) as f:
        f.write(b"never")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop"]


def test_a_link_loop_beside_the_data_is_not_an_input(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv.gz").symlink_to(paths.BUNDLED_DATA_DIR / "train.csv.gz")
    (data / "notes.csv").symlink_to("notes.csv")  # read by no one
    argv = [*QUICK, "--data-dir", str(data), "--model", str(tmp_path / "m.npz")]
    assert nn.main(argv) == 0
    assert (tmp_path / "m.npz").is_file()
