"""Kaggle's Digit Recognizer CSVs: read in one fast pass, and, when that fails, read again
slowly to say what is wrong: the file, the line as an editor numbers it, the column, the fix.

train.csv: label,pixel0,...,pixel783 (label 0-9, pixels 0-255); test.csv: no label.
pixelK is row K // 28, column K % 28 of the 28 x 28 image. It returns plain arrays; it does
not normalise, split or train.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zlib
from pathlib import Path

import numpy as np

from files.errors import InputError
from files.paths import BUNDLED_DATA_DIR, KAGGLE_DATA_DIR
from files.safe_reading import BoundedFile, TooLarge

N_PIXELS = 28 * 28

N_CLASSES = 10

PIXEL_COLUMNS = [f"pixel{k}" for k in range(N_PIXELS)]

# A real header is 6,952 bytes (train.csv; 6,946 test.csv): one far longer is refused before
# it is read whole (a header of 30M fields once ran pandas out of memory).
MAX_HEADER_BYTES = 64 * 1024

# utf-8-sig: a spreadsheet's byte-order mark is not part of the first column's name
CSV_OPTIONS = {"encoding": "utf-8-sig", "index_col": False}


def find_data_file(name: str, data_dir: str | Path | None = None) -> Path:
    """name.csv[.gz] from data_dir; by default Kaggle's in data/raw/, else the bundled copy."""
    if data_dir is None:
        folders = [KAGGLE_DATA_DIR, BUNDLED_DATA_DIR]
    else:
        folders = [Path(data_dir)]
    for folder in folders:
        for candidate in (folder / f"{name}.csv", folder / f"{name}.csv.gz"):
            if candidate.exists() and not candidate.is_file():  # a pipe would block forever
                raise InputError(f"{candidate} is not a regular file (a folder, pipe or device)")
            if candidate.is_file():
                return candidate
    looked = ", ".join(str(folder / f"{name}.csv[.gz]") for folder in folders)
    raise InputError(
        f"no {name} data found (looked for {looked}); put Kaggle's {name}.csv in "
        f"{KAGGLE_DATA_DIR} or pass --data-dir with the folder that holds it"
    )


def read_digits_csv(path, labelled=True, columns=None) -> tuple[np.ndarray, np.ndarray | None]:
    """A Digit Recognizer CSV: pixels (N, 784) uint8, and labels (N,) or None (test.csv), in
    one fast pass. A file that is not one raises InputError naming the file, the line and the
    column (csv_problem reads it again, slowly, to say so)."""
    import pandas as pd  # here: pandas takes ~1 s to import, which --help should not

    path = Path(path)
    if columns is None:
        columns = ["label", *PIXEL_COLUMNS] if labelled else PIXEL_COLUMNS
    check_header_length(path)
    try:
        # BoundedFile: gunzips a .gz, and stops reading a file far larger than a CSV of digits
        with BoundedFile(path) as file, warnings.catch_warnings():
            # pandas only warns when the first row is longer than the header: that is bad data.
            # (Other warnings, such as a FutureWarning, are about pandas, not about the file.)
            warnings.simplefilter("error", pd.errors.ParserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # 1e40 for uint8: pandas raises anyway
            # dtype uint8: pandas refuses any value that is not a whole number 0-255, or is missing
            table = pd.read_csv(file, dtype=np.uint8, **CSV_OPTIONS)
    except (ValueError, OSError, EOFError, pd.errors.ParserWarning):
        table = None
    good = table is not None and list(table.columns) == columns and len(table) > 0
    if good and labelled:
        good = table["label"].max() < N_CLASSES
    if not good:  # what is wrong and where: read again, slowly
        raise InputError(csv_problem(path, columns, CSV_OPTIONS))
    values = table.to_numpy()  # (N, 785) uint8, or (N, 784) without labels
    # pandas hands over columns (Fortran order); the training loop gathers rows: make rows whole
    pixels = np.ascontiguousarray(values[:, -N_PIXELS:])  # (N, 784): the label column dropped
    if labelled:
        labels = values[:, 0].astype(np.int64)  # (N,)
    else:
        labels = None
    return pixels, labels


def check_header_length(path: Path) -> None:
    """Refuse a CSV whose first line is over MAX_HEADER_BYTES, reading no more of it."""
    try:
        with BoundedFile(path) as file:
            header = file.readline(MAX_HEADER_BYTES + 1)
    except (ValueError, OSError, EOFError):
        return  # not readable: the fast pass fails, and csv_problem says why
    if len(header) > MAX_HEADER_BYTES:
        raise InputError(
            f"{path}, line 1: the header is over {MAX_HEADER_BYTES:,} bytes (Kaggle's is "
            f"6,952: label,pixel0,...,pixel783); is it the right file?"
        )


FASHION_COLUMNS = ["label"] + [f"pixel{k}" for k in range(1, 785)]  # pixel1..pixel784


def csv_problem(path: Path, columns: list[str], read: dict) -> str:
    """The first problem of a CSV that should have the header `columns`, as one message.

    `read` holds the pandas.read_csv options of the fast pass (encoding, blank lines kept).
    """
    import pandas as pd

    if path.suffix == ".gz":  # a damaged gzip is said as such, not as a field-count error
        try:
            with BoundedFile(path) as f:
                while f.read(1 << 24):
                    pass
        except TooLarge as error:
            return str(error)
        except (OSError, EOFError, zlib.error) as error:
            return f"{path} is a damaged gzip file ({error}); download or compress it again"
    try:
        with warnings.catch_warnings():
            # pandas only *warns* when the first data row has more fields than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            with BoundedFile(path) as f:
                header = list(pd.read_csv(f, nrows=0, **read).columns)
            if header != columns:
                return header_problem(path, header, columns)
            with BoundedFile(path) as f:
                text = pd.read_csv(f, dtype=str, keep_default_na=False, **read).fillna("")
    except TooLarge as error:
        return str(error)
    except pd.errors.EmptyDataError:
        return f"{path} is empty; expected a header {columns[0]},..."
    except pd.errors.ParserWarning:  # the first data row has more fields than the header
        return (
            f"{path}, line {long_row(path, len(columns))[0]}: more fields than the header's columns"
        )
    except pd.errors.ParserError as error:
        if re.search(r"Expected \d+ fields in line \d+, saw \d+", str(error)):
            # pandas' line number skips some lines and not others: find the row ourselves
            line, found = long_row(path, len(columns))
            return f"{path}, line {line}: expected {len(columns)} fields, found {found}"
        return f"{path} could not be parsed as CSV: {error}"
    except (OSError, UnicodeDecodeError, EOFError) as error:  # a corrupt gzip, not UTF-8 text
        return f"{path} could not be read as CSV: {error}"
    if len(text) == 0:
        return f"{path} has a header but no data rows"
    return first_bad_value(path, text, columns)


def header_problem(path: Path, found: list[str], expected: list[str]) -> str:
    """What is wrong with a header, with a hint for the usual mistakes."""
    training = expected[0] == "label"
    what = f"a training file (label,{expected[1]},...)" if training else "a test file (pixel0,...)"
    hint = ""
    if found == FASHION_COLUMNS:
        hint = " (Fashion-MNIST's header: keep Kaggle's name fashion-mnist_train.csv or _test.csv)"
    elif found[:1] in (["label"], ["pixel0"]) and found[0] != expected[0]:
        hint = " (is the label column missing, or extra? train.csv has it, test.csv does not)"
    elif len(found) == 1 and ";" in str(found[0]):
        hint = " (the values look separated by ';': save the file with commas)"
    elif len(found) == len(expected):
        column = next(i for i, (f, e) in enumerate(zip(found, expected)) if f != e)
        hint = f": column {column + 1} is {found[column]!r}, expected {expected[column]!r}"
    start = ",".join(str(f)[:20] for f in found[:3])
    return (
        f"{path}, line 1: wrong header for {what}: found {len(found)} columns starting "
        f"{start},..., expected {len(expected)}{hint}"
    )


def first_bad_value(path: Path, text, columns: list[str]) -> str:
    """The first cell, row by row, that is not a whole number in range (labels 0-9, pixels
    0-255), from the file read as text: row k of `text` is CSV row k + 1 (see file_line)."""
    import pandas as pd

    values = text.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)  # (N, 785)
    upper = np.where(np.array(columns) == "label", 9, 255)
    with np.errstate(invalid="ignore"):
        bad = np.isnan(values) | (values != np.round(values)) | (values < 0) | (values > upper)
    if not bad.any():
        return f"{path} could not be parsed as numbers"
    row, col = np.argwhere(bad)[0]  # argwhere walks row by row: the first bad cell in the file
    cell, value = text.iat[row, col], values[row, col]
    if cell == "":
        problem = "missing value (an empty field, or a row with too few fields)"
    elif np.isnan(value):
        problem = f"{cell!r} is not a number"
    elif columns[col] == "label":
        problem = f"label {cell} is not a digit 0-9"
    else:
        problem = f"pixel value {cell} is not an integer 0-255"
        if 0 < value < 1:
            problem += " (already normalised? the CSV should hold the raw 0-255 values)"
    return f"{path}, line {file_line(path, row + 1)}, column {columns[col]!r}: {problem}"


def long_row(path: Path, n_fields: int) -> tuple[int, int]:
    """(line, fields) of the first row with more than n_fields fields: the line of the file
    (1-based) on which it ends, counting blank lines, Windows line ends and newlines inside
    quotes as an editor does."""
    with io.TextIOWrapper(BoundedFile(path), encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        for row in reader:
            if len(row) > n_fields:
                return reader.line_num, len(row)
    return reader.line_num, n_fields  # not reached: pandas saw such a row


def file_line(path: Path, row: int) -> int:
    """The line of the file (1-based) on which CSV row `row` (0: the header; blank lines are
    no rows) ends, counting Windows line ends and newlines inside quotes as an editor does."""
    with io.TextIOWrapper(BoundedFile(path), encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        # pandas skips blank lines (spaces only, too); the file still has them
        rows = (r for r in reader if r and (len(r) > 1 or r[0].strip()))
        for _ in zip(range(row + 1), rows):
            pass
        return reader.line_num
