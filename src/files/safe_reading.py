"""Opening what a user names with bounded cost: regular files only (a pipe would block, a
device never end), memory that grows with the bytes really there, never with a header's claim.

Shared by the readers of CSVs, IDX files and class names; it parses nothing itself.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
from pathlib import Path


def open_regular(path: str | Path):
    """open(path, "rb"), refusing what is not a regular file: a pipe would block, a device
    never end. O_NONBLOCK: opening a pipe does not wait for a writer; the opened file itself
    is checked, so a file swapped after a check changes nothing."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(0, "a folder, pipe or device, not a regular file")
    return os.fdopen(fd, "rb")


def sha256(*paths: Path) -> str:
    """One digest of the files' bytes, one after the other."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


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
