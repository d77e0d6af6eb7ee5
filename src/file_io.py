"""The files a run reads and writes, each checked: data, class names, model files and their
run records, outputs written whole; and a training run's other plumbing.

NN_Numpy.py tells how the network learns; everything a run needs around that is here:
- read_labelled(): a run's labelled rows: Kaggle's Digit Recognizer CSVs (read_digits_csv, in
  one fast pass; find_data_file says where), or read_folder(): a folder of MNIST's own IDX
  files (gzipped or not) or of Kaggle's Fashion-MNIST CSVs, with their labelled test set;
- check_arrays(), check_settings(), build_parser(): the arrays and settings a run is given,
  and its command line; package_versions() and run_record(): what is saved with the model;
- write_model(), save_figure(), plot_digit_grid(), show_figures_if_possible(): its outputs;
- class_names(): the ten names of --classes digits | fashion | a file of names;
- csv_problem(): when a CSV fails the fast pass, what is wrong in words a user can act on:
  the file, the line as an editor numbers it, the column, and how to fix it;
- check_outputs(), atomic_write(): where a run may write, and writing each file whole;
- read_model(): a model file, every array checked before it is allocated, and its run record
  checked against what a training run writes; require() and optional() give a command the
  part it needs, or one line saying what is missing and how to get it.
This module imports nothing of the project: it returns plain arrays, dicts and strings, and
raises InputError, the project's one exception for a problem a user can fix (one line, exit
status 1); every other module imports it from here.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import gzip
import hashlib
import io
import json
import os
import re
import resource
import signal
import stat
import struct
import sys
import tempfile
import time
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import numpy as np


class InputError(ValueError):
    """A problem with something the user gave (a file, an array, an option), said in one line."""


# --- Class names ---------------------------------------------------------------------------

DIGIT_NAMES = [str(digit) for digit in range(10)]
FASHION_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
MAX_NAME_LENGTH = 30  # a name is a caption in the figures
MAX_NAMES_BYTES = 4096  # 10 names of 30 characters, 4 bytes each at most in UTF-8, and more


def class_names(spec: str) -> list[str]:
    """--classes: "digits", "fashion", or a UTF-8 file of 10 names, one per line. The file is
    read as every input is: a regular file (a pipe would block, /dev/zero never end), at most
    MAX_NAMES_BYTES, then parsed."""
    if spec in ("digits", "fashion"):
        return list(DIGIT_NAMES if spec == "digits" else FASHION_NAMES)
    refused = f"--classes {spec}: not digits, fashion or a readable file of names"
    try:
        with open_regular(spec) as f:
            data = f.read(MAX_NAMES_BYTES + 1)
    except OSError as problem:
        raise InputError(f"{refused} ({problem.strerror or problem})") from None
    if len(data) > MAX_NAMES_BYTES:
        raise InputError(
            f"{refused} (over {MAX_NAMES_BYTES:,} bytes, more than 10 names of "
            f"{MAX_NAME_LENGTH} characters)"
        )
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as problem:
        raise InputError(f"{refused} ({problem})") from None
    names = [line.strip() for line in lines]
    while names and not names[-1]:
        names.pop()  # blank lines at the end
    if len(names) != 10 or not all(names):
        raise InputError(
            f"{spec}: expected 10 class names, one per line, found {sum(map(bool, names))}"
        )
    for line, name in enumerate(names, 1):
        if problem := name_problem(name):
            raise InputError(f"{spec}, line {line}: {problem}")
    if len(set(names)) != 10:
        raise InputError(f"{spec}: class names must differ, found {', '.join(names)}")
    return names


# Unicode's "other" categories: controls (Cc), formats such as right-to-left overrides (Cf),
# surrogates, private use and unassigned; and the line and paragraph separators
HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def name_problem(name) -> str | None:
    """Why `name` cannot be a class name, or None. Names are printed and drawn: text only, no
    control characters (an ANSI escape clears a terminal), and short enough for a caption."""
    if not isinstance(name, str) or not name.strip():
        return f"class name {name!r} is not text"
    hidden = [c for c in name if unicodedata.category(c) in HIDDEN_CATEGORIES]
    if hidden:
        return (
            f"class name {name!r} holds a control character (U+{ord(hidden[0]):04X}); "
            "names are plain text"
        )
    if len(name) > MAX_NAME_LENGTH:
        return f"class name {name!r} is longer than {MAX_NAME_LENGTH} characters"
    return None


def literal_text(name: str) -> str:
    """`name` as matplotlib draws it letter for letter: a pair of '$' would start math mode
    (and `$\\bad0$` is an error after the model is saved), so each '$' is escaped."""
    return name.replace("$", r"\$")


def open_regular(path: str | Path):
    """open(path, "rb"), refusing what is not a regular file: a pipe would block, a device
    never end. O_NONBLOCK: opening a pipe does not wait for a writer; the opened file itself
    is checked, so a file swapped after a check changes nothing."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(0, "a folder, pipe or device, not a regular file")
    return os.fdopen(fd, "rb")


# --- Kaggle's Digit Recognizer CSVs, and where a training run reads and writes ----------------
# train.csv: label,pixel0,...,pixel783 (label 0-9, pixels 0-255); test.csv: no label.
# pixelK is row K // 28, column K % 28 of the 28 x 28 image.

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DATA_DIR = PROJECT_ROOT / "data" / "external" / "mnist"
KAGGLE_DATA_DIR = PROJECT_ROOT / "data" / "raw"
MODEL_PATH = PROJECT_ROOT / "models" / "mnist_mlp.npz"
FIGURES_DIR = PROJECT_ROOT / "reports" / "figures"
N_PIXELS = 28 * 28
N_CLASSES = 10
PIXEL_COLUMNS = [f"pixel{k}" for k in range(N_PIXELS)]
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


def display_path(path: Path) -> str:
    """A path relative to the project when it is inside it, for short messages."""
    with contextlib.suppress(ValueError):
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    return str(path)


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


# --- A folder of MNIST IDX files or Fashion-MNIST CSVs -----------------------------------------
# IDX (yann.lecun.com's format): a big-endian header, then unsigned bytes. Images: magic
# 0x00000803 (ubyte, 3 dimensions), count, rows, columns, then count * rows * columns pixels,
# one image after the other, row by row (as NN_Numpy's pixel columns). Labels: 0x00000801,
# count, then count bytes.

IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}
MAX_ROWS = 1_000_000  # 784 MB of pixels (3 GB as float32): a header claiming more is refused
# What a training run holds per image (NN_Numpy.load_split and train): the uint8 pixels, their
# float32 copy, and augmentation's float32 copy padded to 32x32 (measured: 6.8 kB per image
# with a validation split, as the padded copy is of the training rows only). Checked against
# the memory there is before reading.
TRAINING_BYTES_PER_ROW = 784 + 784 * 4 + 32 * 32 * 4  # 8,016
FASHION_COLUMNS = ["label"] + [f"pixel{k}" for k in range(1, 785)]  # pixel1..pixel784


def read_folder(folder: Path, normalize=None) -> tuple[dict, np.ndarray, np.ndarray]:
    """The labelled rows of a folder of IDX files or of Kaggle's Fashion-MNIST CSVs: (data,
    pixels (N, 784) uint8, labels (N,) int64). data holds "source" (the training file to name),
    "sha256" (of the training files), "shown" (what was read, and how many rows), "classes"
    (10 names) and, when the folder holds a labelled test set, "X_test" (normalize(pixels))
    and "y_test". Fashion-MNIST's CSVs are read by read_digits_csv with their own header."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    train = [find_idx(folder, stem) for stem in ("train-images-idx3", "train-labels-idx1")]
    test = [find_idx(folder, stem) for stem in ("t10k-images-idx3", "t10k-labels-idx1")]
    if any(train):
        for pair in (train, test):  # images without labels, or labels without images
            if any(pair) and not all(pair):
                swap = ("images-idx3", "labels-idx1")[:: 1 if pair[0] else -1]
                have = pair[0] or pair[1]
                raise InputError(f"{folder}: found {have.name} but not {have.name.replace(*swap)}")
        fashion = "fashion" in f"{resolved(folder).name}/{train[0].name}".lower()
        data = {"source": train[0], "sha256": sha256(*train)}
        shown = f"{train[0]} + {train[1].name} ({'Fashion-' * fashion}MNIST IDX files)"
        pixels, labels = read_idx_pair(*train)
        test = read_idx_pair(*test) if all(test) else None
    elif csv := find_file(folder, "fashion-mnist_train.csv"):
        fashion, test = True, find_file(folder, "fashion-mnist_test.csv")
        data, shown = {"source": csv, "sha256": sha256(csv)}, f"{csv} (Kaggle's Fashion-MNIST CSV)"
        pixels, labels = read_digits_csv(csv, columns=FASHION_COLUMNS)
        test = read_digits_csv(test, columns=FASHION_COLUMNS) if test else None
    else:
        raise InputError(
            f"no training data found in {folder}: looked for Kaggle's train.csv[.gz], MNIST's "
            "train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz] and Kaggle's "
            "fashion-mnist_train.csv[.gz]"
        )
    data["shown"] = f"{shown}, {len(labels):,} rows"
    if test is not None:
        data["shown"] += f"; test set: {len(test[1]):,} labelled rows"
        data["X_test"], data["y_test"] = (normalize or np.asarray)(test[0]), test[1]
    data["classes"] = list(FASHION_NAMES if fashion else DIGIT_NAMES)
    return data, pixels, labels


def find_file(folder: Path, name: str) -> Path | None:
    """folder/name, else folder/name.gz, else None."""
    return next((p for p in (folder / name, folder / f"{name}.gz") if p.is_file()), None)


def find_idx(folder: Path, stem: str) -> Path | None:
    """The IDX file stem-ubyte[.gz] in folder, also under a prefix or with a '.' before idx,
    as some copies are named (fashion-train-images-idx3-ubyte.gz, train-images.idx3-ubyte)."""
    name, idx = stem.rsplit("-", 1)
    pattern = re.compile(rf"(.+[-_.])?{name}[-.]{idx}-ubyte(\.gz)?")
    found = sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name) and p.is_file())
    if len(found) == 2 and found[1].name == found[0].name + ".gz":
        return found[0]  # the file and its gzipped copy: the plain one, as for CSVs
    if len(found) > 1:
        raise InputError(
            f"{folder}: several {stem}-ubyte files ({', '.join(p.name for p in found)})"
        )
    return found[0] if found else None


def sha256(*paths: Path) -> str:
    """One digest of the files' bytes, one after the other."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def read_idx_pair(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    """An IDX images file and its labels file: pixels (N, 784) uint8, labels (N,) int64 0-9."""
    pixels, classes = read_idx(images, "images"), read_idx(labels, "labels")
    if len(pixels) != len(classes):
        raise InputError(
            f"{images} holds {len(pixels):,} images but {labels} holds {len(classes):,} labels"
        )
    bad = np.flatnonzero(classes > 9)
    if len(bad):
        raise InputError(f"{labels}: label {classes[bad[0]]} of item {bad[0] + 1:,} is not 0-9")
    return pixels, classes.astype(np.int64)


def read_idx(path: Path, kind: str) -> np.ndarray:
    """An IDX file of unsigned bytes, gzipped or not: images (N, 784) or labels (N,), uint8.

    Memory follows the data that is really there, never the header's claim: a plain file's
    size is checked against the header before reading, and a gzip stream is read in chunks,
    at most the expected number of bytes + 1 (to see an over-long file), before any array is
    made."""
    ndim = 3 if kind == "images" else 1
    header_size, row_size = 4 + 4 * ndim, 784 if kind == "images" else 1
    gzipped = path.name.endswith(".gz")
    try:
        with (gzip.open if gzipped else open)(path, "rb") as f:
            header = read_at_most(f, header_size)
            if len(header) < header_size:
                raise InputError(
                    f"{path}: truncated: {len(header)} bytes, shorter than the {header_size}-byte "
                    f"header of an IDX {kind} file"
                )
            magic, count, *shape = struct.unpack(f">{1 + ndim}I", header)  # big-endian uint32
            if magic != IDX_MAGIC[kind]:
                raise InputError(
                    f"{path}: not an IDX file of {kind} (magic number 0x{magic:08X}, expected "
                    f"0x{IDX_MAGIC[kind]:08X})"
                )
            if kind == "images" and shape != [28, 28]:
                raise InputError(f"{path}: images of {shape[0]}x{shape[1]} pixels, expected 28x28")
            if count == 0:
                raise InputError(f"{path}: its header says it holds no {kind}")
            too_many = f"{path}: its header says {count:,} {kind}, more than {MAX_ROWS:,}"
            if not gzipped:  # the file's size says it all, before anything is read
                check_length(path, kind, count, os.fstat(f.fileno()).st_size - header_size)
                if count > MAX_ROWS:
                    raise InputError(too_many)
            if kind == "images":
                check_memory(path, min(count, MAX_ROWS))
            cap = min(count, MAX_ROWS) * row_size  # a gzip stream: read no more, whatever it holds
            data = read_at_most(f, cap + 1)
    except (OSError, EOFError, zlib.error) as problem:  # a corrupt gzip, an unreadable file
        raise InputError(f"{path}: could not be read ({problem})") from None
    if len(data) > cap and count > MAX_ROWS:
        raise InputError(too_many)
    check_length(path, kind, count, len(data))
    values = np.frombuffer(data, dtype=np.uint8)  # no copy: the bytes read become the array
    return values.reshape(count, 784) if kind == "images" else values


def check_memory(path: Path, count: int) -> None:
    """Refuse, before reading them, more images than this machine can train on."""
    need, available = count * TRAINING_BYTES_PER_ROW, available_memory()
    if available is not None and need > available:
        raise InputError(
            f"{path}: its header says {count:,} images; training on them takes about "
            f"{need / 2**30:.1f} GiB of memory and {available / 2**30:.1f} GiB is available; "
            "use a file of fewer images, or a machine with more memory"
        )


def available_memory() -> int | None:
    """The bytes this process can still allocate, as far as Linux tells: the memory free for
    use (MemAvailable), within the address-space limit (ulimit -v) and a container's limit
    (cgroup v2); None where none of these can be read."""
    limits = []
    with contextlib.suppress(OSError, TypeError):
        meminfo = Path("/proc/meminfo").read_text()
        limits.append(int(re.search(r"MemAvailable:\s+(\d+) kB", meminfo)[1]) * 1024)
    address_space = resource.getrlimit(resource.RLIMIT_AS)[0]
    if address_space != resource.RLIM_INFINITY:
        with contextlib.suppress(OSError, TypeError):
            status = Path("/proc/self/status").read_text()
            used = int(re.search(r"VmSize:\s+(\d+) kB", status)[1]) * 1024
            limits.append(address_space - used)
    with contextlib.suppress(OSError, ValueError):  # "max": no limit
        cgroup = Path("/sys/fs/cgroup")
        limit = int((cgroup / "memory.max").read_text())
        limits.append(limit - int((cgroup / "memory.current").read_text()))
    return max(min(limits), 0) if limits else None


def check_length(path: Path, kind: str, count: int, length: int) -> None:
    """Refuse data (after the header) shorter or longer than the header's count says."""
    expected = count * (784 if kind == "images" else 1)
    if length < expected:
        raise InputError(
            f"{path}: truncated: its header says {count:,} {kind} ({expected:,} bytes after "
            f"the header), the file holds {length:,}"
        )
    if length > expected:
        raise InputError(
            f"{path}: over-long: more than the {expected:,} bytes of the {count:,} {kind} "
            "its header says"
        )


def read_at_most(f, size: int, chunk_size: int = 1 << 20) -> bytearray:
    """Up to `size` bytes from a file or gzip stream, read in chunks of 1 MiB: memory grows
    with what is there, so a header claiming terabytes costs nothing."""
    data = bytearray()
    while len(data) < size and (chunk := f.read(min(chunk_size, size - len(data)))):
        data += chunk
    return data


MAX_CSV_BYTES = 2**28  # 256 MiB of text: 3.5x Kaggle's train.csv, 2x all of MNIST as CSV


class BoundedFile(io.BufferedReader):
    """A CSV file's bytes, gunzipped if it ends in .gz, as pandas reads them; reading more
    than MAX_CSV_BYTES raises ValueError: a small .gz cannot expand without bound."""

    def __init__(self, path: Path) -> None:
        super().__init__(BoundedRaw(Path(path)))


class BoundedRaw(io.RawIOBase):
    def __init__(self, path: Path) -> None:
        self.path, self.left = path, MAX_CSV_BYTES
        if not path.is_file():  # a pipe or device would block or never end
            raise OSError("not a regular file (a folder, pipe or device)")
        if path.suffix != ".gz" and path.stat().st_size > MAX_CSV_BYTES:
            self.too_large()
        self.file = (gzip.open if path.suffix == ".gz" else open)(path, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.file.readinto(buffer)
        self.left -= count
        if self.left < 0:
            self.too_large()
        return count

    def too_large(self):
        raise TooLarge(
            f"{self.path}: over {MAX_CSV_BYTES >> 20} MB of text, more than a CSV of "
            "28x28 images holds; is it the right file?"
        )

    def close(self) -> None:
        if hasattr(self, "file"):
            self.file.close()
        super().close()


class TooLarge(ValueError):
    """A file that holds far more than it should (see BoundedFile)."""


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


# --- Writing: the outputs a run may write, and writing each one whole -----------------------


def resolved(path: str | Path) -> Path:
    """The absolute path with every link followed, or an InputError for a link that leads back
    to itself (Path.resolve raises RuntimeError there, or OSError for a link chain too long)."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):
        raise InputError(
            f"{path}: a symbolic link loop (a link that leads back to itself); "
            "point it at a real file or folder"
        ) from None


def data_files(folders: list[Path]) -> list[Path]:
    """The data files in these folders that a training run may read: CSVs and IDX files."""
    folders = [Path(folder) for folder in folders if Path(folder).is_dir()]
    return [
        p for folder in folders for p in folder.iterdir() if ".csv" in p.name or "ubyte" in p.name
    ]


def check_outputs(outputs: list[Path], inputs: list[Path]) -> None:
    """Before any work, refuse an output that the run also reads, that is named twice, or that
    exists and is not a regular file (a folder, device, pipe, socket). Links count as targets."""
    read, targets = set(), [resolved(p) for p in outputs]
    for p in inputs:
        with contextlib.suppress(InputError):  # a link loop is no output either: nothing to match
            read.add(resolved(p))
    for path, target in zip(outputs, targets):  # exists(), is_file(): what the links point to
        if target in read:
            raise InputError(f"{path} is also read by this run; write the output elsewhere")
        if targets.count(target) > 1:
            raise InputError(f"{path} is named for two outputs; give each its own file")
        if Path(path).exists() and not Path(path).is_file():  # /proc/self/fd/1 is a pipe, say
            raise InputError(f"{path} exists and is not a regular file; choose a file name")


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator:
    """Write to a temporary file next to `path`, renamed over it only if writing succeeded:
    a crash mid-write leaves the old file untouched, never a half-written one. A link is
    written through to its target; a killed run's temporary file is removed next time."""
    path = resolved(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):  # .name.PID.xyz.tmp
            try:
                os.kill(int(stale.name[len(path.name) + 2 :].split(".")[0]), 0)  # still running?
            except ProcessLookupError:
                stale.unlink(missing_ok=True)
            except (ValueError, OSError):
                pass  # not one of ours, or another user's run
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
        )
        umask = os.umask(0o022)
        os.umask(umask)  # an existing file keeps its mode; a new one gets the usual mode
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as problem:
        if "tmp" in locals():
            os.unlink(tmp)
        if isinstance(problem, OSError):  # no space, no permission...: say which file
            raise InputError(
                f"cannot write {path}: {problem.strerror or problem}; choose another place"
            ) from None
        raise


def write_model(path: str | Path, layer_sizes: list[int], layers: list, record: dict) -> None:
    """Save what read_model reads, in one .npz: the layer sizes, each layer's (weights, bias),
    and the run record as JSON text, so that a model and its record can never disagree."""
    arrays = {"layer_sizes": np.array(layer_sizes), "record": json.dumps(record)}
    for i, (weights, bias) in enumerate(layers):
        arrays[f"weights_{i}"] = weights
        arrays[f"bias_{i}"] = bias
    with atomic_write(path) as f:  # the old file is replaced only once the new one is whole
        np.savez(f, **arrays)


def save_figure(fig, path: Path) -> None:
    with atomic_write(path) as f:
        fig.savefig(f, format=path.suffix.lstrip("."), dpi=100, bbox_inches="tight")


def plot_digit_grid(images, captions: list[str], colors: list[str], title: str, path: Path):
    """Digits in rows of 8, each with a caption above it, drawn as one mosaic image (fast)."""
    import matplotlib.pyplot as plt

    n = len(images)
    cols = 8
    rows = max(1, -(-n // cols))  # ceil(n / cols)
    caption_lines = max([caption.count("\n") + 1 for caption in captions] or [1])
    room = 4 + 9 * caption_lines  # pixels above each digit for its caption
    height = room + 28  # one tile: the caption's room, then the digit
    width = 28 + 6  # the digit and a margin of 3 on each side
    tiles = np.zeros((rows * cols, height, width))
    tiles[:n, room:, 3:31] = images.reshape(n, 28, 28)  # (n, 784) -> (n, 28, 28)
    mosaic = tiles.reshape(rows, cols, height, width).transpose(0, 2, 1, 3)  # (rows, H, cols, W)
    fig, ax = plt.subplots(figsize=(cols * 1.25, rows * height / 28 * 1.25 + 0.5))
    ax.imshow(mosaic.reshape(rows * height, cols * width), cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    for i, (caption, color) in enumerate(zip(captions, colors)):
        x = (i % cols + 0.5) * width
        y = (i // cols) * height + room / 2
        # parse_math=False: a class name is text, even one with two "$" signs in it
        ax.text(x, y, caption, ha="center", va="center", color=color, fontsize=8, parse_math=False)
    ax.set_title(title)
    save_figure(fig, path)
    return fig


def show_figures_if_possible() -> None:
    """Open the figures in a window when matplotlib has an interactive backend (a display)."""
    import matplotlib.pyplot as plt
    from matplotlib.backends import BackendFilter, backend_registry

    if plt.get_backend().lower() in backend_registry.list_builtin(BackendFilter.INTERACTIVE):
        plt.show()
    plt.close("all")


# --- Reading a model: every array checked before it is trusted ----------------------------

FLOAT32_MAX = float(np.finfo(np.float32).max)  # models train and run in float32


def read_model(path: Path, dtype, max_parameters: int):
    """(layer sizes, [(weights, bias) per layer], run record) from a model saved by
    NeuralNetwork.save, checked before anything a hostile file asks for is allocated.

    Never unpickles (allow_pickle=False); an .npz reads an array only when asked, and each
    member's header is read first and must agree with its size in the zip directory, so
    neither a bloated array nor a header claiming gigabytes is ever allocated. Weights must be
    floats of the right shapes, finite in float32 whatever `dtype` they are read in, and small
    enough that no pixels in [0, 1] can give an infinite logit (see output_bounds). The run
    record is checked against what run_training writes (see check_record).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no model file at {path}; train one first: python src/NN_Numpy.py")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path} is not a model saved by NN_Numpy.py (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            sizes, layers, text = check_model(data, np.dtype(dtype), max_parameters)
        return sizes, layers, check_record(text, sizes, path)
    except ModelError as problem:
        raise InputError(f"{path} is not a valid model file: {problem}") from None
    except Exception as problem:  # zip, pickle refusal, truncation: all mean "not our file"
        raise InputError(f"{path} is not a model saved by NN_Numpy.py ({problem})") from None


class ModelError(ValueError):
    """What is wrong inside a model file."""


def layer_sizes_problem(sizes: list[int], max_parameters: int) -> str | None:
    """What makes these layer sizes no network we build (fewer than two, one below 1, more than
    max_parameters weights and biases), or None. NeuralNetwork() and check_model ask."""
    if len(sizes) < 2 or min(sizes) < 1:
        return f"layer sizes must be at least two numbers >= 1, got {sizes}"
    n_parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if n_parameters > max_parameters:
        return f"layer sizes {sizes}: over {max_parameters:,} parameters"
    return None


def check_model(data, dtype: np.dtype, max_parameters: int):
    """(sizes, [(weights, bias)], record text) of an open .npz, or ModelError."""
    bytes_of = {i.filename.removesuffix(".npy"): i.file_size for i in data.zip.infolist()}
    if bytes_of.get("layer_sizes", 0) > 10_000 or bytes_of.get("record", 0) > 10**7:
        raise ModelError("its layer_sizes or record is far larger than a model's")
    member_header(data, "layer_sizes")
    sizes = data["layer_sizes"]
    if sizes.dtype.kind not in "iu" or sizes.ndim != 1 or len(sizes) < 2:
        raise ModelError(f"layer_sizes is {sizes.dtype} {sizes.shape}")
    sizes = [int(n) for n in sizes]
    names = [f"{k}_{i}" for i in range(len(sizes) - 1) for k in ("weights", "bias")]
    if sorted(data.files) != sorted(["layer_sizes", "record", *names]):
        raise ModelError(f"expected {names} and record, found {data.files}")
    problem = layer_sizes_problem(sizes, max_parameters)
    if problem:
        raise ModelError(problem)
    shapes = [
        shape for n_in, n_out in zip(sizes[:-1], sizes[1:]) for shape in ((n_in, n_out), (n_out,))
    ]
    arrays = []
    for name, shape in zip(names, shapes):
        if bytes_of[name] > 1024 + 8 * int(np.prod(shape)):  # read none of a bloated array
            raise ModelError(f"{name} is larger than its {shape} floats")
        declared, kind = member_header(data, name)
        if declared != shape or kind.kind != "f":
            raise ModelError(f"{name} is {kind} {declared}, not {shape} floats")
        array = data[name]
        with np.errstate(over="ignore"):  # 1e300 is finite in float64, inf in float32
            finite = np.isfinite(array.astype(np.float32)).all()
        if not finite:  # every command refuses it, whatever dtype it reads the model in
            raise ModelError(f"{name} holds NaN or infinite values (in float32)")
        arrays.append(array.astype(dtype))
    layers = list(zip(arrays[::2], arrays[1::2]))
    for layer, bound in enumerate(output_bounds(layers), 1):
        if not bound <= FLOAT32_MAX / 2:  # half: room for rounding, and for max - min
            raise ModelError(
                f"its weights are too large: layer {layer} can output values up to {bound:.1e} "
                f"for pixels in [0, 1], beyond float32's {FLOAT32_MAX:.1e}, so its logits "
                f"can be infinite; {RETRAIN}"
            )
    member_header(data, "record")
    record = data["record"]
    return sizes, layers, str(record) if record.dtype.kind == "U" and record.ndim == 0 else None


def member_header(data, name: str) -> tuple[tuple, np.dtype]:
    """The shape and dtype that member name.npy declares, read from its header alone. Its
    size in the zip directory must be exactly the header plus shape * itemsize bytes, as
    np.save writes it: a header claiming gigabytes is refused before np.load allocates them."""
    info = data.zip.getinfo(f"{name}.npy")
    with data.zip.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ModelError(f"{name} has a .npy header of version {version}, not 1.0 or 2.0")
        read_header = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
        shape, _, dtype = read_header(f)
        header_size = f.tell()
    if dtype.hasobject:  # pickled objects: np.load refuses them (allow_pickle=False)
        return shape, dtype
    size = header_size + int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size != info.file_size:
        raise ModelError(
            f"{name}'s header says {dtype} {shape} ({size:,} bytes) but it holds "
            f"{info.file_size:,} bytes"
        )
    return shape, dtype


def output_bounds(layers: list) -> list[float]:
    """The largest |value| each layer can output for any input in [0, 1]: |x @ W + b| <=
    max over columns of sum |W| * max |x| + max |b|, and relu never grows a value. Above
    float32's range, a forward pass can give inf, then NaN probabilities."""
    bound, bounds = 1.0, []  # pixels in [0, 1]
    for weights, bias in layers:  # (n_in, n_out), (n_out,)
        column_sums = np.abs(weights).sum(axis=0, dtype=np.float64)  # (n_out,)
        bound = float(column_sums.max() * bound + np.abs(bias).max(initial=0))
        bounds.append(bound)
    return bounds


# --- The run record: what NN_Numpy.run_training saves beside the weights, checked once ------
# read_model returns a Record: every field below has its type and range, or is absent. Fields
# it does not know are kept as they are, unchecked, for no command reads them. A field that
# is there but wrong is dropped, and the reason kept, so a command that needs it can say what
# is wrong (see require, optional); one that does not need it still runs. A record that
# contradicts its own weights (hidden sizes, number of classes) is another run's: the model is
# refused.

RETRAIN = "retrain the model: python src/NN_Numpy.py"
ABSENT = object()  # what optional gives require for a field that is not there


class Unusable(ValueError):
    """Why a value of a run record cannot be used."""


class Record(dict):
    """A checked run record: .model names the file, .problems holds {field: why it was
    dropped}, "" for the record itself."""

    def __init__(self, fields: dict, model, problems: dict) -> None:
        super().__init__(fields)
        self.model, self.problems = model, problems


def require(record: dict, key: str, why: str) -> object:
    """record's field `key` ("settings.limit"), or an InputError saying it is missing or
    unusable, why the command needs it, and how to get one."""
    value = optional(record, key, ABSENT)
    if value is ABSENT:
        model = getattr(record, "model", "the model")
        raise InputError(f"{model}'s run record has no {key}, needed {why}; {RETRAIN}")
    return value


def optional(record: dict, key: str, default):
    """record's field `key`, or `default` if a model saved before the field existed lacks it;
    an InputError if the field was there but unusable: a broken record is never guessed at."""
    problems, model = getattr(record, "problems", {}), getattr(record, "model", "the model")
    parts = key.split(".")
    for prefix in (".".join(parts[:n]) for n in range(len(parts) + 1)):
        if prefix in problems:
            what = f"an unusable {prefix}" if prefix else "an unusable run record"
            raise InputError(f"{model} has {what}: {problems[prefix]}; {RETRAIN}")
    value = record
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def shown(value) -> str:
    """A value for a message: short, one line, control characters escaped."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def number(ok, rule: str):
    def check(value) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Unusable(f"{shown(value)} is not a number")
        if not ok(value):
            raise Unusable(f"{shown(value)} is not {rule}")
        return float(value)

    return check


def whole(low: int, high: float = float("inf")):
    def check(value) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Unusable(f"{shown(value)} is not a whole number")
        if not low <= value <= high:
            rule = f">= {low}" if high == float("inf") else f"{low}-{high}"
            raise Unusable(f"{value} is not {rule}")
        return value

    return check


def one_of(*choices: str):
    def check(value) -> str:
        if value not in choices or not isinstance(value, str):
            raise Unusable(f"{shown(value)} is not one of {', '.join(choices)}")
        return value

    return check


def text(value) -> str:
    """Text printed as it is: no control characters (an escape sequence clears a terminal)."""
    if not isinstance(value, str):
        raise Unusable(f"{shown(value)} is not text")
    if any(unicodedata.category(c) in HIDDEN_CATEGORIES for c in value):
        raise Unusable(f"{shown(value)} holds control characters")
    return value


def boolean(value) -> bool:
    if not isinstance(value, bool):
        raise Unusable(f"{shown(value)} is not true or false")
    return value


def nullable(check):
    return lambda value: None if value is None else check(value)


def list_of(check, at_least: int = 0):
    def check_list(value) -> list:
        if not isinstance(value, list):
            raise Unusable(f"{shown(value)} is not a list")
        if len(value) < at_least:
            raise Unusable(f"{len(value)} entries, fewer than {at_least}")
        checked = []
        for i, item in enumerate(value, 1):
            try:
                checked.append(check(item))
            except Unusable as problem:
                raise Unusable(f"entry {i}: {problem}") from None
        return checked

    return check_list


def names(value) -> list[str]:
    """A model's class names: distinct, each a caption (see name_problem)."""
    value = list_of(lambda name: name, 1)(value)
    for i, name in enumerate(value, 1):
        if problem := name_problem(name):
            raise Unusable(f"entry {i}: {problem}")
    if len(set(value)) != len(value):
        raise Unusable("two classes have the same name")
    return value


def digest(value) -> str:
    if not isinstance(value, str) or not re.fullmatch("[0-9a-f]{64}", value):
        raise Unusable(f"{shown(value)} is not a SHA-256 digest (64 hex digits)")
    return value


def versions(value) -> dict:
    """{package: version}, both text; None for a package that was not installed."""
    if not isinstance(value, dict):
        raise Unusable(f"{shown(value)} is not an object")
    return {text(package): nullable(text)(version) for package, version in value.items()}


SHARE = number(lambda v: 0 <= v <= 1, "in [0, 1]")
POSITIVE = number(lambda v: 0 <= v < float("inf"), ">= 0 and finite")
# The training settings' rules, one table for both places that check them: the command line
# (check_settings: "--momentum must be in [0, 1), got 1.0") and a saved run record
# (SETTINGS: "an unusable settings.momentum: 1.0 must be in [0, 1)"). Its names are
# NN_Numpy.TrainConfig's fields, in order (tests/test_hostile_records.py checks that).
# name -> (the JSON type a record holds it as, is it in range, the rule in words)
SETTING_RULES = {
    "epochs": (int, lambda v: v >= 1, "must be >= 1"),
    "batch_size": (int, lambda v: v >= 1, "must be >= 1"),
    "optimizer": (str, lambda v: v in ("sgd", "adam"), "must be 'sgd' or 'adam'"),
    "learning_rate": (float, lambda v: 0 < v < np.inf, "must be > 0"),
    "momentum": (float, lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "schedule": (str, lambda v: v in ("cosine", "constant"), "must be cosine or constant"),
    "weight_decay": (float, lambda v: 0 <= v < np.inf, "must be >= 0"),
    "shift": (int, lambda v: 0 <= v < 28, "must be 0-27 pixels (the image is 28 pixels wide)"),
    "affine": (float, lambda v: 0 <= v <= 10, "must be 0-10"),
    "elastic": (float, lambda v: 0 <= v <= 10, "must be 0-10"),
    "negatives": (float, lambda v: 0 <= v <= 1, "must be 0-1 (a share of the rows)"),
    "hidden": (list, lambda v: all(1 <= n <= 10_000 for n in v), "sizes must be 1-10000"),
    "val_fraction": (float, lambda v: 0 < v < 1, "must be in (0, 1)"),
    "train_on_all": (bool, lambda v: True, ""),
    "limit": (int, lambda v: v is None or v >= 1, "must be >= 1"),  # None: every row
    "seed": (int, lambda v: 0 <= v < 2**32, "must be 0 to 2**32 - 1"),
}


def recorded_setting(json_type, in_range, rule: str):
    """A record check for one setting of SETTING_RULES: its JSON type, then its range."""
    type_check = {
        int: whole(-(2**63)),
        float: number(lambda v: True, ""),
        str: text,
        bool: boolean,
        list: list_of(whole(-(2**63))),
    }[json_type]

    def check(value):
        value = type_check(value)
        if not in_range(value):
            raise Unusable(f"{shown(value)} {rule}")
        return value

    return check


SETTINGS = {name: recorded_setting(*rules) for name, rules in SETTING_RULES.items()}
SETTINGS["limit"] = nullable(SETTINGS["limit"])  # null: every row was used
DATA = {
    "path": text,
    "sha256": digest,
    "rows": whole(1),
    "classes": names,
}
METRICS = {
    "evaluated_on": one_of("training", "validation"),
    "accuracy": SHARE,
    "loss": POSITIVE,
    "seconds": POSITIVE,
    # above 1 (inf: no threshold reached the target accuracy): never sure
    "not_sure_threshold": number(lambda v: v >= 0, ">= 0"),
    # issue #20 ("not a digit" below it; a model saved before has none), and what a model
    # answers to 1,000 made-up non-digits: the share below it, the share answered with a digit
    "not_a_digit_threshold": number(lambda v: v >= 0, ">= 0"),
    "negatives_not_a_digit": SHARE,
    "negatives_answered": SHARE,
    "test_accuracy": SHARE,
}
EPOCH = {  # one entry of the history; the first two are always there
    "epoch": whole(1),
    "loss": POSITIVE,
    "learning_rate": POSITIVE,
    "seconds": POSITIVE,
    "val_loss": POSITIVE,
    "val_accuracy": SHARE,
}


def fields_of(schema: dict):
    """A checker of a JSON object: each known field checked, unknown ones kept as they are."""

    def check(value) -> dict:
        if not isinstance(value, dict):
            raise Unusable(f"{shown(value)} is not an object")
        return value | {key: schema[key](value[key]) for key in schema.keys() & value.keys()}

    return check


def history(value) -> list[dict]:
    """The history: one entry per epoch, 1, 2, ..., each with its loss; validation figures in
    every entry or in none."""
    entries = list_of(fields_of(EPOCH), 1)(value)
    validation = [entry.keys() & {"val_loss", "val_accuracy"} for entry in entries]
    for i, entry in enumerate(entries, 1):
        for key in ("epoch", "loss"):
            if key not in entry:
                raise Unusable(f"entry {i} has no {key}")
        if entry["epoch"] != i:
            raise Unusable(f"entry {i} is for epoch {entry['epoch']}")
        if validation[i - 1] != validation[0]:
            raise Unusable(f"entry {i} has other validation figures than entry 1")
    return entries


RECORD = {
    "created": text,
    "command": list_of(text, 1),
    "settings": SETTINGS,
    "data": DATA,
    "versions": versions,
    "history": history,
    "metrics": METRICS,
}


def check_record(record_text: str | None, sizes: list[int], model) -> Record:
    """The run record, as JSON text, checked against RECORD (see above): a section (settings,
    data, metrics) field by field, anything else as a whole. ModelError if it describes
    other weights than `sizes`."""
    try:
        record = json.loads(record_text)
    except (TypeError, ValueError, RecursionError):  # no text, not JSON, nested too deep
        return Record({}, model, {"": "it is not JSON text"})
    if not isinstance(record, dict):
        return Record({}, model, {"": f"{shown(record)} is not a JSON object"})
    fields, problems = dict(record), {}
    for key, schema in RECORD.items():
        if key not in record:
            continue
        if callable(schema):  # checked as a whole
            check_field(schema, fields, key, problems, key)
        elif not isinstance(record[key], dict):
            problems[key] = f"{shown(fields.pop(key))} is not an object"
        else:  # a section, field by field
            for name in schema.keys() & record[key].keys():
                check_field(schema[name], fields[key], name, problems, f"{key}.{name}")
    check_against_weights(fields, sizes)
    epochs = fields.get("settings", {}).get("epochs")
    if "history" in fields and epochs is not None:
        last = len(fields["history"])
        # a run stopped early (the live page's stop button) has fewer epochs, never more
        short_but_stopped = last < epochs and "stopped_early" in fields
        if last != epochs and not short_but_stopped:
            fields.pop("history")
            problems["history"] = f"its last epoch is {last}, settings.epochs is {epochs}"
    return Record(fields, model, problems)


def check_field(check, fields: dict, name: str, problems: dict, key: str) -> None:
    """fields[name] checked (and made float where a number is expected); dropped, and
    problems[key] saying why, if it is unusable."""
    try:
        fields[name] = check(fields[name])
    except Unusable as problem:
        problems[key] = str(problem)
        del fields[name]


def check_against_weights(fields: dict, sizes: list[int]) -> None:
    """A record whose hidden sizes or classes disagree with the weights is another run's."""
    hidden = fields.get("settings", {}).get("hidden")
    if hidden is not None and hidden != sizes[1:-1]:
        raise ModelError(
            f"its run record is another run's: settings.hidden is {hidden}, the weights' hidden "
            f"layers are {sizes[1:-1]}; {RETRAIN}"
        )
    classes = fields.get("data", {}).get("classes")
    if classes is not None and len(classes) != sizes[-1]:
        raise ModelError(
            f"its run record is another run's: data.classes names {len(classes)} classes, the "
            f"weights give {sizes[-1]}; {RETRAIN}"
        )


# --- A training run's plumbing: its settings, command line, output files and record ---------


def check_arrays(X, y, layer_sizes: list[int], dtype):
    """X as (N, n_in) finite numbers in `dtype`, for a network of these layer sizes; and y, if
    given, as N labels 0 to n_classes - 1: X, or (X, y). Anything else is an InputError."""
    X = np.asarray(X)
    n_in = layer_sizes[0]
    n_classes = layer_sizes[-1]
    if X.ndim != 2 or X.shape[1] != n_in:
        raise InputError(f"expected an array (N, {n_in}) of pixels in [0, 1], got {X.shape}")
    if X.dtype.kind not in "biuf":
        raise InputError(f"expected real numbers, got dtype {X.dtype}")
    if not np.isfinite(X).all():
        raise InputError("input contains NaN or infinite values")
    if y is None:
        return X.astype(dtype, copy=False)
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise InputError(f"expected {len(X)} labels, one per image, got shape {y.shape}")
    if y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() >= n_classes)):
        raise InputError(f"labels must be whole numbers 0-{n_classes - 1}")
    return X.astype(dtype, copy=False), y


def check_settings(config) -> None:
    """Refuse training settings that cannot train (NN_Numpy.TrainConfig), naming the
    command-line option: a ValueError, which NN_Numpy.main() turns into a usage error."""
    for name, (_, in_range, rule) in SETTING_RULES.items():
        value = getattr(config, name)
        if not in_range(value):
            raise ValueError(f"--{name.replace('_', '-')} {rule}, got {value}")


def divergence_message(loss: float, epoch: int, batch: int, config) -> str:
    """NN_Numpy.train's error when the loss is no longer finite, in one line: where the loss
    blew up, and which option to lower. Usually the learning rate. Weight decay alone can blow
    SGD up too: on the L2 term alone, SGD with momentum m grows without bound once
    lr * weight_decay > 2 * (1 + m). Then weight decay is named, unless the learning rate is
    further above its default (the likelier mistake)."""
    name = "learning_rate"
    value = config.learning_rate
    decay_unstable = config.learning_rate * config.weight_decay > 2 * (1 + config.momentum)
    decay_further_off = config.weight_decay / 1e-4 > config.learning_rate / 0.1  # the defaults
    if config.optimizer == "sgd" and decay_unstable and decay_further_off:
        name = "weight_decay"
        value = config.weight_decay
    return (
        f"the training loss became {loss} in epoch {epoch}, batch {batch}; try a smaller "
        f"{name.replace('_', ' ')} (--{name.replace('_', '-')} {value / 10:g})"
    )


def build_parser(settings) -> argparse.ArgumentParser:
    """NN_Numpy.py's command line: one option per training setting (dataclasses.fields of
    TrainConfig: --batch-size for batch_size, its default, its metadata's help and choices),
    then where to read and write."""
    parser = argparse.ArgumentParser(
        prog="NN_Numpy.py",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Train a fully connected network, written in NumPy, on Kaggle's Digit "
        "Recognizer (MNIST) data; evaluate it, save it and plot sample predictions. "
        "To use the trained model: python src/use_network.py --help",
    )
    for setting in settings:
        names = ["--" + setting.name.replace("_", "-")]
        if setting.name == "learning_rate":
            names.append("--lr")
        default = setting.default
        options = {"dest": setting.name, "default": default, "help": setting.metadata["help"]}
        if isinstance(default, bool):  # --train-on-all: on when given
            options["action"] = "store_true"
        elif isinstance(default, tuple):  # --hidden 128 64
            options["nargs"] = "+"
            options["type"] = int
        elif default is None:  # --limit N
            options["type"] = int
        else:
            options["type"] = type(default)
        if setting.metadata.get("choices"):
            options["choices"] = setting.metadata["choices"]
        parser.add_argument(*names, **options)
    add = parser.add_argument
    add("--data-dir", type=Path, help="Kaggle CSVs or IDX; None: data/raw/ or the bundled copy")
    add("--classes", help="class names: digits, fashion or a file of 10; None: from the data")
    add("--model", type=Path, default=MODEL_PATH, help="where to save the model and its record")
    add("--figures-dir", type=Path, default=FIGURES_DIR, help="where to save the figures")
    add("--no-plots", action="store_true", help="skip the figures")
    return parser


def check_run_outputs(args) -> dict[str, Path]:
    """The figures a training run will write ({"predictions": path, "training_curves": path});
    before any work, its outputs (args.model, and the figures unless args.no_plots) are checked
    against the data files it may read (check_outputs)."""
    if args.data_dir:
        folders = [args.data_dir]
    else:
        folders = [KAGGLE_DATA_DIR, BUNDLED_DATA_DIR]
    figures = {
        "predictions": args.figures_dir / "predictions.png",
        "training_curves": args.figures_dir / "training_curves.png",
    }
    outputs = [args.model]
    if not args.no_plots:
        outputs += list(figures.values())
    check_outputs(outputs, data_files(folders))
    return figures


RECORD_PACKAGES = ["numpy", "pandas", "scikit-learn", "matplotlib", "pillow"]


def package_versions() -> dict:
    """Python's version and each run-time package's, for the run record; None for a package
    that is not installed. Read before training: the record never costs a trained model."""
    versions = {"python": sys.version.split()[0]}
    for name in RECORD_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except (metadata.PackageNotFoundError, ValueError):
            versions[name] = None
    return versions


def run_record(argv: list[str], settings: dict, data: dict, names: list[str], **results) -> dict:
    """The run record saved with the weights (checked by check_record when read back): when,
    the command, the settings, the data (path, digest, rows, class names), and `results`:
    versions, history, metrics. A run a hook stopped early says so."""
    record = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "src/NN_Numpy.py", *argv],
        "settings": settings,
        "data": {key: data[key] for key in ("path", "sha256", "rows")} | {"classes": names},
        "versions": results["versions"],
        "history": results["history"],
        "metrics": results["metrics"],
    }
    if len(results["history"]) < settings["epochs"]:  # a hook stopped training
        record["stopped_early"] = {"epochs_done": len(results["history"])}
    return record


# --- Running a command: one line for an error, never a traceback ------------------------------


def report_errors(command: Callable[[], int]) -> int:
    """Run a command: an error a user can cause is one line on stderr and exit status 1; Ctrl-C
    or SIGTERM exit 130. Files are only replaced whole (atomic_write): a failed run damages none.
    The main() of NN_Numpy.py and of use_network.py run their work through it."""

    with contextlib.suppress(ValueError):  # signals can only be set in the main thread
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # raises KeyboardInterrupt
    try:
        return command()
    except InputError as error:  # one line, whatever a file name holds
        print(f"error: {error}".replace("\n", "\\n"), file=sys.stderr)
    except OSError as error:  # e.g. a disk that fills up; nothing half-written is left behind
        print(f"error: {error.strerror or error} ({error.filename})", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved from the unfinished step", file=sys.stderr)
        return 130
    return 1
