"""src/files/kaggle_csv.py: Kaggle's CSVs read; a bad one named by file, line and column."""

import gzip
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import TRAIN_HEADER, write_csv, write_fashion_csv

import NN_Numpy as nn
from files import kaggle_csv, paths

TEST_HEADER = kaggle_csv.PIXEL_COLUMNS


MISSING = "missing value (an empty field, or a row with too few fields)"


def train_row(label=3, pixel=0):
    return [label] + [pixel] * 784


def test_bundled_training_file_is_real_mnist(mnist):
    pixels, labels = mnist
    assert pixels.shape == (42000, 784) and pixels.dtype == np.uint8
    assert labels.shape == (42000,) and set(np.unique(labels)) == set(range(10))
    assert pixels.max() == 255 and pixels.min() == 0
    # class counts are those of the 60,000-image MNIST training set, subsampled: all near 10%
    assert np.bincount(labels).min() > 3700


def test_bundled_test_file_parses_without_labels():
    pixels, labels = kaggle_csv.read_digits_csv(
        paths.BUNDLED_DATA_DIR / "test.csv.gz", labelled=False
    )
    assert pixels.shape == (28000, 784) and labels is None


def test_small_valid_file_round_trips(tmp_path):
    rows = [train_row(label=d, pixel=d * 20) for d in range(10)]
    pixels, labels = kaggle_csv.read_digits_csv(
        write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows)
    )
    assert labels.tolist() == list(range(10))
    assert pixels[:, 0].tolist() == [d * 20 for d in range(10)]


def error_for(path, labelled=True):
    with pytest.raises(nn.InputError) as info:
        kaggle_csv.read_digits_csv(path, labelled)
    return str(info.value)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([train_row(), train_row(label=10)], "line 3, column 'label': label 10 is not a digit 0-9"),
        ([train_row(), train_row(label=-1)], "line 3, column 'label': label -1 is not a digit 0-9"),
        (
            [train_row(pixel=256)],
            "line 2, column 'pixel0': pixel value 256 is not an integer 0-255",
        ),
        (
            [train_row(), train_row(pixel=-3)],
            "line 3, column 'pixel0': pixel value -3 is not an integer 0-255",
        ),
        (
            [train_row(pixel=0.5)],
            "line 2, column 'pixel0': pixel value 0.5 is not an integer 0-255 "
            "(already normalised? the CSV should hold the raw 0-255 values)",
        ),
        ([train_row(), train_row()[:-1]], f"line 3, column 'pixel783': {MISSING}"),
        ([train_row(), [4, ""] + [0] * 783], f"line 3, column 'pixel0': {MISSING}"),
        (  # a blank line is skipped, and counted: the bad value is on the file's line 4
            [train_row(), [], train_row(pixel=300)],
            "line 4, column 'pixel0': pixel value 300 is not an integer 0-255",
        ),
        (
            [train_row(), train_row(pixel=1e40)],
            "line 3, column 'pixel0': pixel value 1e+40 is not an integer 0-255",
        ),
        (
            [train_row(), train_row(), [5, 0, "abc"] + [0] * 782],
            "line 4, column 'pixel1': 'abc' is not a number",
        ),
        ([train_row(), train_row() + [7]], "line 3: expected 785 fields, found 786"),
        ([train_row() + [7], train_row()], "line 2: more fields than the header's columns"),
    ],
)
def test_bad_values_are_reported_with_line_and_column(tmp_path, rows, message):
    path = write_csv(tmp_path / "train.csv", TRAIN_HEADER, rows)
    assert error_for(path) == f"{path}, {message}"


def test_test_file_given_as_training_file(tmp_path):
    path = write_csv(tmp_path / "train.csv", TEST_HEADER, [[0] * 784])
    assert error_for(path) == (
        f"{path}, line 1: wrong header for a training file (label,pixel0,...): found 784 columns "
        "starting pixel0,pixel1,pixel2,..., expected 785 (is the label column missing, or extra? "
        "train.csv has it, test.csv does not)"
    )


def test_misnamed_column(tmp_path):
    header = TRAIN_HEADER.copy()
    header[5] = "pixel_4"
    path = write_csv(tmp_path / "train.csv", header, [train_row()])
    assert error_for(path).endswith("expected 785: column 6 is 'pixel_4', expected 'pixel4'")


def test_too_few_columns_in_header(tmp_path):
    path = write_csv(tmp_path / "test.csv", TEST_HEADER[:100], [[0] * 100])
    assert error_for(path, labelled=False) == (
        f"{path}, line 1: wrong header for a test file (pixel0,...): found 100 columns "
        "starting pixel0,pixel1,pixel2,..., expected 784"
    )


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert error_for(empty) == f"{empty} is empty; expected a header label,..."
    header_only = write_csv(tmp_path / "train.csv", TRAIN_HEADER, [])
    assert error_for(header_only) == f"{header_only} has a header but no data rows"


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "train.csv.gz"
    path.write_bytes(gzip.compress(b"label,pixel0\n")[:15])
    assert error_for(path).startswith(f"{path} is a damaged gzip file (")
    assert error_for(path).endswith("); download or compress it again")


def test_missing_data_file_says_where_to_put_it(tmp_path):
    with pytest.raises(nn.InputError) as info:
        kaggle_csv.find_data_file("train", tmp_path)
    assert str(info.value) == (
        f"no train data found (looked for {tmp_path}/train.csv[.gz]); put Kaggle's train.csv in "
        f"{paths.KAGGLE_DATA_DIR} or pass --data-dir with the folder that holds it"
    )


def test_kaggle_file_in_data_raw_is_preferred_to_the_bundled_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(kaggle_csv, "KAGGLE_DATA_DIR", tmp_path)
    assert kaggle_csv.find_data_file("train") == paths.BUNDLED_DATA_DIR / "train.csv.gz"
    (tmp_path / "train.csv.gz").write_bytes(b"")
    assert kaggle_csv.find_data_file("train") == tmp_path / "train.csv.gz"
    (tmp_path / "train.csv").write_bytes(b"")
    assert (
        kaggle_csv.find_data_file("train") == tmp_path / "train.csv"
    )  # plain CSV first, as Kaggle ships it


def test_pixels_come_out_one_image_per_contiguous_row(mnist):
    # pandas hands over columns; a column-major array made every batch gather 10x slower
    assert mnist[0].flags.c_contiguous
    column_major = np.asfortranarray(mnist[0][:100])
    normalised = nn.normalize(column_major)
    assert normalised.flags.c_contiguous and normalised.dtype == np.float32
    assert normalised.max() == 1.0 and normalised.min() == 0.0


def test_spreadsheet_quirks(tmp_path):
    # a byte-order mark, as Excel writes "CSV UTF-8", is not part of the first column's name
    path = tmp_path / "bom.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + (",".join(TRAIN_HEADER) + "\n" + ",".join(map(str, train_row(label=7))) + "\n").encode()
    )
    assert kaggle_csv.read_digits_csv(path)[1].tolist() == [7]
    # semicolons, as spreadsheets in many locales write
    path = tmp_path / "semicolons.csv"
    path.write_text(";".join(TRAIN_HEADER) + "\n" + ";".join(map(str, train_row())) + "\n")
    assert error_for(path) == (
        f"{path}, line 1: wrong header for a training file (label,pixel0,...): found 1 columns "
        "starting label;pixel0;pixel1;,..., expected 785 (the values look separated by ';': "
        "save the file with commas)"
    )


def test_text_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(",".join(TRAIN_HEADER).encode() + b"\n\xe9\xe8," + b"0," * 783 + b"0\n")
    assert error_for(path).startswith(
        f"{path} could not be read as CSV: 'utf-8' codec can't decode byte 0xe9"
    )


def test_a_pandas_warning_about_pandas_does_not_make_a_valid_file_bad(tmp_path, monkeypatch):
    # A FutureWarning (a pandas upgrade, not the file) used to turn every CSV into "bad file".
    import pandas as pd

    path = write_csv(
        tmp_path / "train.csv", TRAIN_HEADER, [train_row(label=d, pixel=d) for d in range(3)]
    )
    read_csv = pd.read_csv

    def read_csv_with_a_future_warning(*args, **kwargs):
        warnings.warn("some default will change in pandas 4", FutureWarning, stacklevel=2)
        return read_csv(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", read_csv_with_a_future_warning)
    with pytest.warns(FutureWarning):
        pixels, labels = kaggle_csv.read_digits_csv(path)
    assert labels.tolist() == [0, 1, 2] and pixels[2].tolist() == [2] * 784


def test_a_first_row_longer_than_the_header_is_still_bad_data(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text(",".join(TRAIN_HEADER) + "\n" + ",".join(["1"] * 786) + "\n")
    assert error_for(path) == f"{path}, line 2: more fields than the header's columns"


def test_a_value_too_large_for_a_pixel_is_one_clear_error_and_no_raw_warning(tmp_path):
    path = write_csv(tmp_path / "train.csv", TRAIN_HEADER, [[3] + [1e40] * 784])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        message = error_for(path)
    assert message == f"{path}, line 2, column 'pixel0': pixel value 1e+40 is not an integer 0-255"
    assert [str(w.message) for w in caught] == []


def test_fashion_header_in_a_digit_csv_says_what_it_is(tmp_path, mnist):
    pixels, labels = mnist
    path = write_fashion_csv(tmp_path / "train.csv", pixels[:3], labels[:3])
    with pytest.raises(nn.InputError) as info:
        kaggle_csv.read_digits_csv(path)
    assert str(info.value) == (
        f"{path}, line 1: wrong header for a training file (label,pixel0,...): found 785 columns "
        "starting label,pixel1,pixel2,..., expected 785 (Fashion-MNIST's header: keep Kaggle's "
        "name fashion-mnist_train.csv or _test.csv)"
    )


# Issue #12, item 4: CSV errors name the file's own line


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


# Issue #21, item 10: CSV line numbers count blank lines, in every path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("extra_on", [2, 5])  # the first data row (a pandas warning), a later one
def test_an_extra_field_after_blank_lines_names_the_editors_line(tmp_path, newline, extra_on):
    row = ",".join(["3"] + ["0"] * 784)
    lines = [",".join(TRAIN_HEADER), "", "", row, row, row, row]
    lines.insert(
        extra_on + 1, row + ",7"
    )  # after the two blank lines: the file's line 2 + extra_on
    path = tmp_path / "train.csv"
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    with pytest.raises(nn.InputError) as info:
        kaggle_csv.read_digits_csv(path)
    problem = "expected 785 fields, found 786"
    if extra_on == 2:  # the first data row: pandas only warns, and says so in other words
        problem = "more fields than the header's columns"
    assert str(info.value) == f"{path}, line {extra_on + 2}: {problem}"


def test_a_bad_value_after_blank_lines_names_the_editors_line(tmp_path):
    path = write_csv(tmp_path / "train.csv", TRAIN_HEADER, [[3] + [0] * 784])
    row = ",".join(["3"] + ["0"] * 784)
    path.write_text(path.read_text() + "\n\n" + row + "\n" + row[:-1] + "x\n")
    with pytest.raises(nn.InputError) as info:
        kaggle_csv.read_digits_csv(path)
    assert str(info.value) == f"{path}, line 6, column 'pixel783': 'x' is not a number"


@pytest.mark.parametrize("name", ["train.csv", "train.csv.gz"])
def test_a_huge_header_is_refused_in_one_line_before_it_is_read(tmp_path, name):
    # Issue #29, item 11: a header of 30M fields (60 MB) ran pandas out of memory
    header = ",".join(f"c{k}" for k in range(20_000))  # 128 KB, no newline within the bound
    path = tmp_path / name
    data = (header + "\n" + ",".join(["0"] * 20_000) + "\n").encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert error_for(path) == (
        f"{path}, line 1: the header is over 65,536 bytes (Kaggle's is 6,952: "
        "label,pixel0,...,pixel783); is it the right file?"
    )
