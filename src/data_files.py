"""Data files beyond a clean Kaggle CSV: what is wrong with a CSV that fails its check, and where.

NN_Numpy.read_digits_csv reads a good Digit Recognizer CSV in one fast pass. When that
pass fails, it imports this module to say what went wrong in words a user can act on:
the file, the line as an editor numbers it, the column, and how to fix it. This module
imports nothing of the project.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np


def csv_problem(path: Path, columns: list[str], read: dict) -> str:
    """The first problem of a CSV that should have the header `columns`, as one message.

    `read` holds the pandas.read_csv options of the fast pass (encoding, blank lines kept).
    """
    import pandas as pd

    try:
        with warnings.catch_warnings():
            # pandas only *warns* when the first data row has more fields than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            header = list(pd.read_csv(path, nrows=0, **read).columns)
            if header != columns:
                return header_problem(path, header, columns)
            text = pd.read_csv(path, dtype=str, keep_default_na=False, **read).fillna("")
    except pd.errors.EmptyDataError:
        return f"{path} is empty; expected a header {columns[0]},..."
    except pd.errors.ParserWarning:
        return f"{path}, line 2: more fields than the header's columns"
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if found:
            return f"{path}, line {found[2]}: expected {found[1]} fields, found {found[3]}"
        return f"{path} could not be parsed as CSV: {error}"
    except (OSError, UnicodeDecodeError, EOFError) as error:  # a corrupt gzip, not UTF-8 text
        return f"{path} could not be read as CSV: {error}"
    if len(text) == 0:
        return f"{path} has a header but no data rows"
    return first_bad_value(path, text, columns)


def header_problem(path: Path, found: list[str], expected: list[str]) -> str:
    """What is wrong with a header, with a hint for the usual mistakes."""
    training = expected[0] == "label"
    what = "a training file (label,pixel0,...)" if training else "a test file (pixel0,...)"
    hint = ""
    if found[:1] in (["label"], ["pixel0"]) and found[0] != expected[0]:
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
    0-255), from the file read as text: row k of `text` is line k + 2 of the file."""
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
        problem = "missing value (an empty field, a blank line, or a row with too few fields)"
    elif np.isnan(value):
        problem = f"{cell!r} is not a number"
    elif columns[col] == "label":
        problem = f"label {cell} is not a digit 0-9"
    else:
        problem = f"pixel value {cell} is not an integer 0-255"
        if 0 < value < 1:
            problem += " (already normalised? the CSV should hold the raw 0-255 values)"
    return f"{path}, line {row + 2}, column {columns[col]!r}: {problem}"
