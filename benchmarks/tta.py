"""What test-time augmentation adds: validation accuracy of trained models with and without it.

    .venv/bin/python src/NN_Numpy.py --seed 1 --model /tmp/seed1.npz --no-plots   # models first
    .venv/bin/python benchmarks/tta.py models/mnist_mlp.npz /tmp/seed1.npz

Each model is scored on its own validation rows (the split its run record names), as
`predict` and `submit` score without and with --tta (digit_model.predict_proba_tta).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
import NN_Numpy as nn
from using import digit_model


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("models", type=Path, nargs="+", help="models trained by NN_Numpy.py")
    args = parser.parse_args()
    print("| model | seed | validation accuracy | with --tta | gain (points) |")
    print("| --- | --- | --- | --- | --- |")
    for path in args.models:
        network = digit_model.load_model(path)
        config = nn.TrainConfig(**network.record["settings"])
        data = nn.load_split(None, config)
        X, y = data["X_val"], data["y_val"]
        plain = (
            digit_model.predict_proba_tta(network, X, tta=False).argmax(axis=1) == y
        ).mean() * 100
        tta = (digit_model.predict_proba_tta(network, X).argmax(axis=1) == y).mean() * 100
        print(f"| {path} | {config.seed} | {plain:.2f}% | {tta:.2f}% | {tta - plain:+.2f} |")


if __name__ == "__main__":
    main()
