"""A folder of MNIST's own IDX files (gzipped or not) or of Kaggle's Fashion-MNIST CSVs, with
its labelled test set; the memory a training run needs is checked before anything is read.

IDX (yann.lecun.com's format): a big-endian header, then unsigned bytes. Images: magic
0x00000803 (ubyte, 3 dimensions), count, rows, columns, then count * rows * columns pixels,
one image after the other, row by row (as NN_Numpy's pixel columns). Labels: 0x00000801,
count, then count bytes. It returns plain arrays; it does not normalise or train.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import resource
import struct
import zlib
from pathlib import Path

import numpy as np

from files.class_names import DIGIT_NAMES, FASHION_NAMES
from files.errors import InputError
from files.kaggle_csv import FASHION_COLUMNS, read_digits_csv
from files.paths import resolved
from files.safe_reading import read_at_most, sha256

IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}

MAX_ROWS = 1_000_000  # 784 MB of pixels (3 GB as float32): a header claiming more is refused

# What a training run holds per image (NN_Numpy.load_split and train): the uint8 pixels, their
# float32 copy, and augmentation's float32 copy padded to 32x32 (measured: 6.8 kB per image
# with a validation split, as the padded copy is of the training rows only). Checked against
# the memory there is before reading.
TRAINING_BYTES_PER_ROW = 784 + 784 * 4 + 32 * 32 * 4  # 8,016


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
