"""A Kaggle submission: every row of test.csv predicted, written as ImageId,Label and read
back as Kaggle would before it is kept.

    python src/use_network.py submit       # write_submission

pandas is imported inside the functions that use it: it takes a second to load.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

import NN_Numpy as nn
from files import kaggle_csv, outputs, paths
from files.errors import InputError
from using.digit_model import load_digit_model, predict_proba_tta

SUBMISSION_PATH = paths.PROJECT_ROOT / "models" / "submission.csv"


def check_submission(text: str, n_rows: int) -> None:
    """Read the submission back as Kaggle would; any surprise is a bug, not the user's fault."""
    import pandas as pd

    frame = pd.read_csv(io.StringIO(text))
    problems = [
        (list(frame.columns) == ["ImageId", "Label"], f"columns {list(frame.columns)}"),
        (len(frame) == n_rows, f"{len(frame)} rows, expected {n_rows}"),
        (frame["ImageId"].tolist() == list(range(1, n_rows + 1)), f"ImageId is not 1..{n_rows}"),
        (frame["Label"].dtype.kind == "i" and frame["Label"].between(0, 9).all(), "labels not 0-9"),
    ]
    for ok, problem in problems:
        if not ok:
            raise RuntimeError(f"the submission failed its own check: {problem}")


def write_submission(model: Path, test: Path | None, out: Path, tta: bool = False) -> None:
    """Predict every row of the test file (None: data/raw/ or the bundled one) and write out."""
    import pandas as pd

    network = load_digit_model(model, "submit")
    test_file = test if test is not None else kaggle_csv.find_data_file("test")
    if not test_file.is_file():
        raise InputError(f"{test_file}: no such file; pass Kaggle's test.csv with --test")
    outputs.check_outputs([out], [model, test_file])
    pixels, _ = kaggle_csv.read_digits_csv(test_file, labelled=False)
    labels = predict_proba_tta(network, nn.normalize(pixels), tta).argmax(axis=1)
    ids = np.arange(1, len(labels) + 1)
    text = pd.DataFrame({"ImageId": ids, "Label": labels}).to_csv(index=False)
    check_submission(text, len(pixels))
    with outputs.atomic_write(out) as f:
        f.write(text.encode())
    counts = ", ".join(f"{d}: {n}" for d, n in enumerate(np.bincount(labels, minlength=10)))
    print(
        f"Submission for {len(labels):,} rows of {paths.display_path(test_file)} written to "
        f"{paths.display_path(out)}"
    )
    print(f"Checked: header ImageId,Label, ImageId 1..{len(labels)}, labels 0-9 (counts {counts})")
