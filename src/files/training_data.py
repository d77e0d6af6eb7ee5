"""A training run's labelled rows, from wherever they are: Kaggle's train.csv (data/raw/ first,
else the bundled copy) or a --data-dir folder; said in one line, with their digest for the
run record. It chooses and checks the source; the reading is kaggle_csv's and mnist_folders'.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from files.class_names import DIGIT_NAMES
from files.errors import InputError
from files.kaggle_csv import find_data_file, read_digits_csv
from files.mnist_folders import read_folder
from files.paths import BUNDLED_DATA_DIR, display_path
from files.safe_reading import sha256


def read_labelled(
    data_dir: Path | None, limit: int | None, normalize
) -> tuple[dict, np.ndarray, np.ndarray]:
    """A training run's labelled rows, the first `limit` of them (None: all): (data, pixels
    (N, 784) uint8, labels (N,) int64). Kaggle's train.csv[.gz] from data_dir (None: data/raw/,
    else the bundled copy), or read_folder's IDX files or Fashion-MNIST CSVs. data holds
    "source", "path" (for messages), "sha256", "rows" (before the limit), "shown" (a line
    saying what was read), "classes", and what read_folder adds (a labelled test set,
    normalised by `normalize`)."""
    if data_dir and not list(Path(data_dir).glob("train.csv*")):  # IDX files, or Fashion's CSVs?
        data, pixels, labels = read_folder(data_dir, normalize)
    else:
        source = find_data_file("train", data_dir)
        pixels, labels = read_digits_csv(source)
        if source.parent == BUNDLED_DATA_DIR:
            origin = "bundled MNIST copy"
        else:
            origin = "your file"
        shown = f"{display_path(source)} ({origin}), {len(labels):,} rows"
        data = {"source": source, "sha256": sha256(source), "shown": shown}
        data["classes"] = list(DIGIT_NAMES)
    data["path"] = display_path(data["source"])
    data["rows"] = len(labels)
    pixels = pixels[:limit]  # limit None: every row
    labels = labels[:limit]
    if len(np.unique(labels)) < 2:
        raise InputError(f"{data['path']}: every row has the same label; nothing to tell apart")
    if pixels.max() <= 1:
        raise InputError(f"{data['path']}: every pixel is 0 or 1 (binarised?); expected 0-255")
    return data, pixels, labels
