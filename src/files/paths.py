"""Where a run reads and writes by default (the project's data/, models/, reports/figures/),
and paths made safe to compare (links followed) or short to print. It reads no file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from files.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # src/files/paths.py -> the project

BUNDLED_DATA_DIR = PROJECT_ROOT / "data" / "external" / "mnist"

KAGGLE_DATA_DIR = PROJECT_ROOT / "data" / "raw"

MODEL_PATH = PROJECT_ROOT / "models" / "mnist_mlp.npz"

FIGURES_DIR = PROJECT_ROOT / "reports" / "figures"


def display_path(path: Path) -> str:
    """A path relative to the project when it is inside it, for short messages."""
    with contextlib.suppress(ValueError):
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    return str(path)


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
