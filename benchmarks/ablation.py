"""Ablation of the training recipe: validation accuracy (mean ± std over seeds) and seconds.

    .venv/bin/python benchmarks/ablation.py                  # the README's table: 6 recipes x 3 seeds
    .venv/bin/python benchmarks/ablation.py --recipes plain default --seeds 0 1 2 --epochs 100

Each run is the command line's default run (784-128-64-10, 20% stratified split by
the seed) with the recipe's settings; 1 BLAS thread per run, `--jobs` runs at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads: repeatable single-thread timings
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
import NN_Numpy as nn  # noqa: E402

# Each recipe adds one technique to the one before it; "+shift" is the command line's default.
PLAIN = dict(optimizer="sgd", momentum=0.0, schedule="constant", weight_decay=0.0, shift=0, label_smoothing=0.0)
RECIPES = {
    "plain": PLAIN,
    "+momentum": {**PLAIN, "momentum": 0.9},
    "+cosine": {**PLAIN, "momentum": 0.9, "schedule": "cosine"},
    "+weight_decay": {**PLAIN, "momentum": 0.9, "schedule": "cosine", "weight_decay": 5e-4},
    "+shift": {**PLAIN, "momentum": 0.9, "schedule": "cosine", "weight_decay": 5e-4, "shift": 2},
    "+label_smoothing": {**PLAIN, "momentum": 0.9, "schedule": "cosine", "weight_decay": 5e-4, "shift": 2, "label_smoothing": 0.1},
    "adam+cosine+shift": {**PLAIN, "optimizer": "adam", "learning_rate": 1e-3, "schedule": "cosine", "shift": 2},
    "default": {},
}


def run(recipe: str, seed: int, epochs: int, overrides: dict) -> tuple[str, int, float, float, float]:
    data = nn.load_digits(nn.find_data_file("train"))
    from sklearn.model_selection import train_test_split

    train_rows, val_rows = train_test_split(np.arange(len(data["labels"])), test_size=0.2, stratify=data["labels"], random_state=seed)
    X_train, y_train = nn.normalize(data["pixels"][train_rows]), data["labels"][train_rows]
    X_val, y_val = nn.normalize(data["pixels"][val_rows]), data["labels"][val_rows]
    config = nn.TrainConfig(**{**RECIPES[recipe], **overrides, "epochs": epochs, "seed": seed})
    network = nn.NeuralNetwork(seed=seed)
    start = time.perf_counter()
    history = network.fit(X_train, y_train, X_val, y_val, config, log=lambda line: None)
    seconds = time.perf_counter() - start
    return recipe, seed, network.accuracy(X_val, y_val), history[-1]["val_accuracy"], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", default=[r for r in RECIPES if r != "default"], choices=RECIPES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (one core each)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="override TrainConfig fields in every recipe")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        field, value = item.split("=")
        overrides[field] = type(getattr(nn.TrainConfig(), field))(value) if field != "early_stopping" else int(value)
    nn.load_digits(nn.find_data_file("train"))  # build the cache once, before the workers read it

    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, r, s, args.epochs, overrides) for r in args.recipes for s in args.seeds]
        results = [f.result() for f in futures]
    print(f"{args.epochs} epochs, seeds {args.seeds}, overrides {overrides or 'none'}, {args.jobs} runs at once, 1 BLAS thread each")
    print("| recipe | val. accuracy (best epoch), mean ± std | last epoch | per seed | training s (median) |")
    print("| --- | --- | --- | --- | --- |")
    for recipe in args.recipes:
        rows = [r for r in results if r[0] == recipe]
        acc = np.array([r[2] for r in rows]) * 100
        last = np.array([r[3] for r in rows]) * 100
        secs = np.median([r[4] for r in rows])
        print(f"| {recipe} | {acc.mean():.2f} ± {acc.std():.2f}% | {last.mean():.2f}% | {', '.join(f'{a:.2f}' for a in acc)} | {secs:.1f} |")


if __name__ == "__main__":
    main()
