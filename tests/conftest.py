import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import NN_Numpy as nn  # noqa: E402
from files import kaggle_csv, paths


@pytest.fixture(scope="session")
def mnist():
    """The bundled real MNIST training rows: pixels (42000, 784) uint8, labels (42000,)."""
    return kaggle_csv.read_digits_csv(paths.BUNDLED_DATA_DIR / "train.csv.gz")


@pytest.fixture(scope="session")
def small_split(mnist):
    """4,000 training and 1,000 validation rows, normalised to [0, 1]."""
    pixels, labels = mnist
    X = nn.normalize(pixels[:5000])
    return X[:4000], labels[:4000], X[4000:5000], labels[4000:5000]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    """A small CSV in the Digit Recognizer layout, for bad-input tests."""
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path
