"""Ablation of the training recipe: validation accuracy over seeds, and seconds.

    .venv/bin/python benchmarks/ablation.py                   # the README's table, 3 seeds
    .venv/bin/python benchmarks/ablation.py --recipes plain default --seeds 0 1 2 3 4
    .venv/bin/python benchmarks/ablation.py --recipes default --set weight_decay=5e-5

Each run is the command line's default run (784-128-64-10, 20% stratified split by the
seed) with the recipe's settings, scored by its last epoch's weights on the validation
rows (nothing is chosen on them); 1 BLAS thread per run, `--jobs` runs at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, replace
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads: 1 thread per run
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
import NN_Numpy as nn

# Each recipe adds one technique to the one before it; "+wd_1e-4" is the default.
PLAIN = dict(momentum=0.0, schedule="constant", weight_decay=0.0, shift=0, affine=0.0, elastic=0.0)
SHIFT = {**PLAIN, "momentum": 0.9, "schedule": "cosine", "weight_decay": 5e-4, "shift": 2}
RECIPES = {
    "plain": PLAIN,
    "+momentum": {**PLAIN, "momentum": 0.9},
    "+cosine": {**PLAIN, "momentum": 0.9, "schedule": "cosine"},
    "+weight_decay": {**PLAIN, "momentum": 0.9, "schedule": "cosine", "weight_decay": 5e-4},
    "+shift": SHIFT,
    "+affine": {**SHIFT, "affine": 1.0},
    "+elastic": {**SHIFT, "affine": 1.0, "elastic": 1.5},
    "+wd_1e-4": {**SHIFT, "affine": 1.0, "elastic": 1.5, "weight_decay": 1e-4},  # less decay
    "adam+cosine+shift": {**SHIFT, "optimizer": "adam", "learning_rate": 1e-3, "weight_decay": 0.0},
    "default": {},
}


def run(recipe: str, seed: int, settings: dict) -> tuple[str, int, float, float]:
    config = nn.TrainConfig(**{**RECIPES[recipe], **settings, "seed": seed})
    data = nn.load_split(None, config)
    network = nn.NeuralNetwork([nn.N_PIXELS, *config.hidden, nn.N_CLASSES], seed=seed)
    start = time.perf_counter()
    nn.train(network, data["X_train"], data["y_train"], config=config, log=lambda line: None)
    seconds = time.perf_counter() - start
    return recipe, seed, network.accuracy(data["X_val"], data["y_val"]), seconds


def parse_setting(item: str) -> tuple[str, object]:
    """FIELD=VALUE for a TrainConfig field, VALUE converted to the field's type."""
    name, _, value = item.partition("=")
    kinds = {f.name: type(f.default) for f in fields(nn.TrainConfig)}
    if name not in kinds:
        raise SystemExit(f"--set: no setting {name!r}; choose from {', '.join(kinds)}")
    kind = kinds[name]
    if kind is bool:
        return name, value.lower() in ("1", "true", "yes")
    if kind is tuple:  # hidden=256,128
        return name, tuple(int(n) for n in value.split(","))
    return name, int(value) if kind is type(None) else kind(value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--recipes", nargs="+", default=[r for r in RECIPES if r != "default"], choices=RECIPES
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (one core each)")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="FIELD=VALUE",
        help="override TrainConfig fields in every recipe",
    )
    args = parser.parse_args()
    settings = dict(parse_setting(item) for item in args.set) | {"epochs": args.epochs}
    replace(nn.TrainConfig(), **settings)  # a bad value stops here, before any run

    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, r, s, settings) for r in args.recipes for s in args.seeds]
        results = [f.result() for f in futures]
    print(
        f"{args.epochs} epochs, seeds {args.seeds}, settings {settings}, "
        f"{args.jobs} runs at once, 1 BLAS thread each"
    )
    print("| recipe | validation accuracy (last epoch), median | mean ± std | per seed | s |")
    print("| --- | --- | --- | --- | --- |")
    for recipe in args.recipes:
        rows = [r for r in results if r[0] == recipe]
        accuracy = np.array([r[2] for r in rows]) * 100
        seconds = np.median([r[3] for r in rows])
        per_seed = ", ".join(f"{a:.2f}" for a in accuracy)
        print(
            f"| {recipe} | {np.median(accuracy):.2f}% | {accuracy.mean():.2f} ± "
            f"{accuracy.std():.2f}% | {per_seed} | {seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
