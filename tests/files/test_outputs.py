"""Hostile and broken inputs (issue #12): nothing lost, nothing hangs, every error one clear line.

One group of tests per numbered item of the issue; each failed on the code before it.
"""

import gzip
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from conftest import write_csv
from PIL import Image

import NN_Numpy as nn
import use_network as un
from files import kaggle_csv, safe_reading
from using import photos

SRC = Path(nn.__file__).parent
QUICK = ["--limit", "600", "--epochs", "1", "--no-plots"]
TRAIN_HEADER = ["label"] + kaggle_csv.PIXEL_COLUMNS


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small trained model with its run record, made by the command line."""
    path = tmp_path_factory.mktemp("model") / "model.npz"
    assert nn.main([*QUICK, "--model", str(path)]) == 0
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def digit_png(path: Path, pixels: np.ndarray) -> Path:
    Image.fromarray(255 - pixels.reshape(28, 28)).resize((140, 140)).save(path, format="PNG")
    return path


# 1. Outputs never overwrite inputs or special files ------------------------------------


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


# 2. A model file cannot lie ------------------------------------------------------------


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


@pytest.mark.parametrize("sizes", [[5, 10], [784, 3]])
def test_gradcheck_and_report_refuse_a_model_of_other_sizes(tmp_path, capsys, sizes):
    nn.NeuralNetwork(sizes).save(tmp_path / "m.npz")
    for command in ("gradcheck", "report", "predict"):
        argv = [command, "--model", str(tmp_path / "m.npz")] + (
            ["x.png"] if command == "predict" else []
        )
        assert un.main(argv) == 1
        assert (
            f"maps {sizes[0]} inputs to {sizes[1]} outputs; a digit model maps 784 to 10"
            in one_error_line(capsys)
        )


# 3. Nothing hangs, and one bad image does not abort the batch -------------------------


def test_predict_skips_a_fifo_and_a_nan_tiff_and_reads_the_rest(mnist, model, tmp_path, capsys):
    good = digit_png(tmp_path / "good.png", mnist[0][1])
    os.mkfifo(tmp_path / "fifo.png")
    Image.fromarray(np.full((30, 30), np.nan, np.float32), mode="F").save(tmp_path / "nan.tiff")
    argv = [
        "predict",
        str(tmp_path / "fifo.png"),
        str(tmp_path / "nan.tiff"),
        str(good),
        "--model",
        str(model),
    ]
    assert un.main(argv) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{good}: ")
    assert err.splitlines() == [
        f"error: {tmp_path / 'fifo.png'}: not a regular file (a folder, pipe or device)",
        f"error: {tmp_path / 'nan.tiff'}: some pixels are NaN or infinite",
        "error: 2 of 3 images could not be read (see above)",
    ]


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


# 4. CSV errors name the file's own line -------------------------------------------------


def bad_csv(path: Path, newline: str, blank: str = "", quoted: bool = False) -> Path:
    row = ",".join(["3"] + ["0"] * 784)
    rows = [",".join(TRAIN_HEADER), row, blank, row, blank, row]
    if quoted:
        rows[3] = '"3\n",' + ",".join(["0"] * 784)  # a quoted newline: one row, two lines
    rows += [row[:-1] + "300"]  # the bad value, on the file's line 7 (8 with the quoted newline)
    path.write_bytes(newline.join(rows).encode() + newline.encode())
    return path


@pytest.mark.parametrize(
    "newline, blank, quoted, line",
    [("\n", "", False, 7), ("\r\n", "", False, 7), ("\r\n", "", True, 8), ("\n", "  ", False, 7)],
)
def test_csv_errors_name_the_files_own_line(tmp_path, newline, blank, quoted, line):
    path = bad_csv(tmp_path / "train.csv", newline, blank, quoted)
    with pytest.raises(nn.InputError) as info:
        kaggle_csv.read_digits_csv(path)
    if blank == " ":  # a line holding a space is a row with too few fields, not a blank line
        assert str(info.value).startswith(f"{path}, line 3, column 'pixel0': missing value")
    else:
        assert (
            str(info.value)
            == f"{path}, line {line}, column 'pixel783': pixel value 300 is not an integer 0-255"
        )


# 5. The model and its run record are one unit ------------------------------------------


def test_a_failed_run_leaves_the_old_model_and_its_record_together(model, tmp_path, capsys):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    assert nn.main([*QUICK, "--learning-rate", "1e5", "--model", str(copy)]) == 1
    assert copy.read_bytes() == model.read_bytes()
    assert nn.NeuralNetwork.load(copy).record["settings"]["learning_rate"] == 0.1  # the old run's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no separate record to drift


# 6. No data cache to trust; outputs no wider than the umask allows -----------------------


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


# 7. Small inputs cannot amplify without bound --------------------------------------------


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


def test_an_image_with_too_many_pixels_is_refused_from_its_header(tmp_path):
    Image.new("RGBA", (6500, 6500)).save(tmp_path / "big.png")  # 42 Mpx, under Pillow's limit
    with pytest.raises(
        nn.InputError, match="big.png: 6500x6500 pixels, more than the 40 million accepted"
    ):
        photos.preprocess_image(tmp_path / "big.png")


# 8. Nothing a user can type gives a traceback ----------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["gradcheck", "--seed", "-1"], "--seed must be 0 to 2**32 - 1, got -1"),
        (["gradcheck", "--entries", "0"], "--entries must be >= 1, got 0"),
        (["explain", "--batch-size", "100000"], "--batch-size must be 1-10000, got 100000"),
        (["explain", "--seed", str(2**32)], "--seed must be 0 to 2**32 - 1, got 4294967296"),
        (["draw", "--port", "70000"], "--port must be 0-65535, got 70000"),
        (["draw", "--port", "-1"], "--port must be 0-65535, got -1"),
        (["draw", "--threshold", "nan"], "--threshold must be 0-1, got nan"),
        (["draw", "--threshold", "1.5"], "--threshold must be 0-1, got 1.5"),
        (["draw", "--threshold", "inf"], "--threshold must be 0-1, got inf"),
    ],
)
def test_companion_options_out_of_range_are_refused_before_anything_runs(argv, message, capsys):
    # Checked at parse time, like the trainer's options: --port 70000 used to end in an
    # OverflowError traceback, and --threshold nan made a 99%-sure digit read "not sure".
    with pytest.raises(SystemExit) as info:
        un.main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"use_network.py: error: {message}"


def test_report_with_a_record_missing_a_key(model, tmp_path, capsys):
    network = nn.NeuralNetwork.load(model)
    del network.record["history"]
    network.save(tmp_path / "m.npz")
    assert (
        un.main(["report", "--model", str(tmp_path / "m.npz"), "--figures-dir", str(tmp_path)]) == 1
    )
    assert one_error_line(capsys).endswith(
        "m.npz's run record has no history, needed for the training curves; "
        "retrain the model: python src/NN_Numpy.py"
    )


# 9. Messages that help ---------------------------------------------------------------------


def test_a_full_disk_names_the_file(model, tmp_path, monkeypatch, capsys):
    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    assert un.main(["submit", "--model", str(model), "--out", str(tmp_path / "s.csv")]) == 1
    message = "No space left on device; choose another place"
    assert one_error_line(capsys) == f"error: cannot write {tmp_path / 's.csv'}: {message}"
    assert list(tmp_path.iterdir()) == []  # and no temporary file is left


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


def test_divergence_caused_by_weight_decay_names_weight_decay(capsys, tmp_path):
    argv = ["--limit", "3000", "--epochs", "1", "--no-plots", "--weight-decay", "1e4"]
    assert nn.main([*argv, "--model", str(tmp_path / "m.npz")]) == 1
    assert "try a smaller weight decay (--weight-decay 1000)" in capsys.readouterr().err


def test_a_corrupt_gzip_is_called_one_and_1e40_gives_no_raw_warning(tmp_path, capsys):
    data = gzip.compress(
        (",".join(TRAIN_HEADER) + "\n" + ("3," + "0," * 783 + "0\n") * 500).encode()
    )
    (tmp_path / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(nn.InputError, match="cut.csv.gz is a damaged gzip file"):
        kaggle_csv.read_digits_csv(tmp_path / "cut.csv.gz")
    path = write_csv(tmp_path / "big.csv", TRAIN_HEADER, [[3] + [1e40] * 784])
    with pytest.raises(nn.InputError, match="pixel value 1e\\+40 is not an integer 0-255"):
        kaggle_csv.read_digits_csv(path)
    assert capsys.readouterr().err == ""


# 10. Smaller things ----------------------------------------------------------------------


def test_sigterm_is_ctrl_c_and_a_killed_runs_temp_file_is_removed_next_time(model, tmp_path):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    stale = tmp_path / ".m.npz.999999999.abcd.tmp"  # a killed run's: no process has that id
    stale.write_bytes(b"half a model")
    process = subprocess.Popen(
        [
            sys.executable,
            str(SRC / "NN_Numpy.py"),
            "--limit",
            "3000",
            "--no-plots",
            "--model",
            str(copy),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().startswith("Data: ")
    while not process.stdout.readline().startswith("Epoch 1/"):
        pass
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err.endswith(
        "interrupted: nothing was saved from the unfinished step\n"
    )
    assert copy.read_bytes() == model.read_bytes()
    nn.NeuralNetwork.load(copy).save(copy)  # the next write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            [[4] + [d] * 784 for d in range(40)],
            "every row has the same label; nothing to tell apart",
        ),
        (
            [[d % 10] + [d % 2] * 784 for d in range(40)],
            "every pixel is 0 or 1 (binarised?); expected 0-255",
        ),
    ],
)
def test_degenerate_data_is_refused(tmp_path, capsys, rows, message):
    write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows)
    assert (
        nn.main(["--data-dir", str(tmp_path), "--no-plots", "--model", str(tmp_path / "m.npz")])
        == 1
    )
    assert one_error_line(capsys).endswith(f"train.csv: {message}")


def test_saved_images_of_files_sharing_a_stem_do_not_overwrite_each_other(
    mnist, model, tmp_path, capsys
):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = digit_png(tmp_path / "a" / "digit.png", mnist[0][1])
    second = digit_png(tmp_path / "b" / "digit.png", mnist[0][2])
    argv = [
        "predict",
        str(first),
        str(second),
        "--model",
        str(model),
        "--save-preprocessed",
        str(tmp_path / "seen"),
    ]
    assert un.main(argv) == 0
    assert len(list((tmp_path / "seen").iterdir())) == 2


def test_a_newline_in_a_file_name_cannot_forge_a_line(mnist, model, tmp_path, capsys):
    path = digit_png(tmp_path / "x\n7 (100.0%).png", mnist[0][1])
    (tmp_path / "bad\nerror: all fine.png").write_text("not an image")
    assert (
        un.main(
            [
                "predict",
                str(path),
                str(tmp_path / "bad\nerror: all fine.png"),
                "--model",
                str(model),
            ]
        )
        == 1
    )
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and len(err.splitlines()) == 2
