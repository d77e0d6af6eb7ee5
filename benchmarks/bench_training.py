"""Speed of src/NN_Numpy.py's training: its matrix multiplies, scikit-learn, PyTorch.

    .venv/bin/python benchmarks/bench_training.py                  # everything, 5-6 minutes
    .venv/bin/python benchmarks/bench_training.py --threads 1 --skip-full-run

Prints, for the default network (784-128-64-10) and the default training settings:
the whole default run (`python src/NN_Numpy.py`, 100 epochs, figures): its seconds
and peak memory; parsing the CSV; seconds per training epoch (median) of the default
recipe against the same run without distortions, and where its CPU time goes by thread
(the training, the worker's warps); samples/s, the epoch's GFLOP/s against NumPy's own
GFLOP/s for the same 8 matrix multiplies per batch (their ratio is the overhead); scikit-learn's
MLPClassifier and PyTorch's CPU build (if installed; it is not a project dependency)
on the same network and batch. Absolute seconds vary between runs on a shared
machine; compare the ratios, measured side by side in the same run.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
import NN_Numpy as nn  # noqa: E402
from files import kaggle_csv
from learning import augment  # noqa: E402

SIZES = (784, 128, 64, 10)
NO_AUGMENTATION = dict(shift=0, affine=0.0, elastic=0.0)
PLAIN = dict(momentum=0.0, schedule="constant", weight_decay=0.0, **NO_AUGMENTATION)


def gemm_flops_per_sample() -> int:
    """2 x multiply-adds of the 8 matrix multiplies per batch: 3 forward, 3 grad_weights, 2
    grad_input (the first layer's input needs no gradient)."""
    layers = list(zip(SIZES[:-1], SIZES[1:]))
    forward = sum(2 * i * o for i, o in layers)
    grad_input = sum(2 * i * o for i, o in layers[1:])
    return 2 * forward + grad_input


def median_time(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def numpy_epoch(X, y, config, repeats):
    """Median seconds of one epoch of NN_Numpy, as train() runs it (no validation pass)."""
    network = nn.NeuralNetwork(seed=0)
    config = replace(config, epochs=repeats + 1)
    history = nn.train(network, X, y, config=config, log=lambda line: None)
    return float(np.median([h["seconds"] for h in history[1:]]))  # the first epoch warms caches up


def epoch_cpu(X, y, config) -> dict[str, float]:
    """CPU milliseconds per epoch of train() as it runs (the default recipe), by thread: the
    main thread (the training, and the draws of the epoch's distortions), and the worker
    (augment.distort). Thread CPU time, not wall time: it does not count the time a thread
    waits for a core on a busy machine."""
    worker_seconds = []
    real_distort = augment.distort

    def timed_distort(*args):
        start = time.thread_time()
        images = real_distort(*args)
        worker_seconds.append(time.thread_time() - start)
        return images

    epochs = 3
    augment.distort = timed_distort
    try:
        start = time.thread_time()
        nn.train(nn.NeuralNetwork(seed=0), X, y, config=replace(config, epochs=epochs), log=str)
        main_seconds = time.thread_time() - start
    finally:
        augment.distort = real_distort
    return {"main": main_seconds / epochs * 1000, "worker": sum(worker_seconds) / epochs * 1000}


def epoch_breakdown(X, y, config) -> dict[str, float]:
    """Milliseconds per epoch in each part of train()'s loop, the same calls timed one by one in
    one thread (in train() the warp runs in a second thread, beside the rest)."""
    network = nn.NeuralNetwork(seed=0)
    optimizer = nn.SGD(config.learning_rate, config.momentum, config.weight_decay)
    rng = np.random.default_rng(0)
    names = ["draws", "warp", "forward", "loss", "backward", "optimizer"]
    clock = time.thread_time
    for _ in range(2):  # the second epoch is kept: the first warms caches up
        parts = dict.fromkeys(names, 0.0)
        t0 = clock()
        order = rng.permutation(len(X))
        affine = augment.random_affine(len(X), config, rng)
        weights, fields = augment.random_elastic(len(X), config, rng)
        parts["draws"] = (clock() - t0) * 1000
        for first in range(0, len(X), config.batch_size):
            batch = order[first : first + config.batch_size]
            t1 = clock()
            x = augment.distort(X[batch], affine[batch], weights[batch], fields)
            t2 = clock()
            logits = network.forward(x)
            t3 = clock()
            _, grad_logits = nn.softmax_cross_entropy(logits, y[batch])
            t4 = clock()
            network.backward(grad_logits)
            t5 = clock()
            optimizer.step(network.parameters(), network.gradients())
            t6 = clock()
            times = (t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)
            for name, seconds in zip(names[1:], times):
                parts[name] += seconds * 1000
    return parts


def gemm_epoch(n_samples, batch_size, repeats):
    """The same 8 matrix multiplies per batch, at the same shapes, and nothing else."""
    rng = np.random.default_rng(0)
    W = [rng.standard_normal((i, o), dtype=np.float32) for i, o in zip(SIZES[:-1], SIZES[1:])]
    batches = [
        rng.random((min(batch_size, n_samples - i), 784), dtype=np.float32)
        for i in range(0, n_samples, batch_size)
    ]

    def epoch():
        for x in batches:
            h1 = x @ W[0]
            h2 = h1 @ W[1]
            out = h2 @ W[2]
            _ = h2.T @ out
            d2 = out @ W[2].T
            _ = h1.T @ d2
            d1 = d2 @ W[1].T
            _ = x.T @ d1

    epoch()
    return median_time(epoch, repeats)


def sklearn_epoch(X, y, batch_size, learning_rate):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    epochs = 3
    mlp = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1],
        solver="sgd",
        batch_size=batch_size,
        learning_rate_init=learning_rate,
        momentum=0.9,
        nesterovs_momentum=False,
        alpha=0.0,
        max_iter=epochs,
        tol=0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        mlp.fit(X, y)
    return (time.perf_counter() - start) / epochs


def torch_model(torch, threads: int):
    """The same 784-128-64-10 network in PyTorch, at `threads` threads, seeded."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(784, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 10),
    )


def torch_epoch(X, y, batch_size, learning_rate, threads, repeats):
    try:
        import torch
    except ImportError:
        return None
    model = torch_model(torch, threads)
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)  # preloaded tensors

    def epoch():
        order = torch.randperm(len(X_t))
        for i in range(0, len(X_t), batch_size):
            batch = order[i : i + batch_size]
            optimizer.zero_grad()
            loss_fn(model(X_t[batch]), y_t[batch]).backward()
            optimizer.step()

    epoch()
    return median_time(epoch, repeats), torch.__version__


def torch_augmented_epoch(X, y, config, threads, repeats):
    """PyTorch doing the default recipe's work: the same random affine maps and elastic fields
    (drawn by augment.py, per epoch), applied batched with affine_grid + grid_sample (bilinear,
    zeros outside), then SGD with momentum and weight decay. None without PyTorch."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    from learning import augment

    model = torch_model(torch, threads)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=config.learning_rate,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    images = torch.from_numpy(X).reshape(-1, 1, 28, 28)
    labels = torch.from_numpy(y)
    rng = np.random.default_rng(0)
    # pixel units -> grid_sample's [-1, 1] units (align_corners=False: 28 pixels span 2)
    to_unit = 2 / 28

    def epoch():
        affine = augment.random_affine(len(X), config, rng)  # (N, 6) in framed pixels
        weights, fields = augment.random_elastic(len(X), config, rng)  # (N, K), (K, 2, 784)
        theta = torch.from_numpy(affine).reshape(-1, 2, 3).clone()
        theta[:, :, 2] = (theta[:, :, 2] - augment.CENTRE) * to_unit  # the shift, in units
        weights_t = torch.from_numpy(weights)
        fields_t = torch.from_numpy(fields).permute(0, 2, 1) * to_unit  # (K, 784, 2)
        order = torch.randperm(len(X))
        for i in range(0, len(X), config.batch_size):
            batch = order[i : i + config.batch_size]
            grid = F.affine_grid(theta[batch], (len(batch), 1, 28, 28), align_corners=False)
            elastic = torch.einsum("bk,kpc->bpc", weights_t[batch], fields_t)  # (B, 784, 2)
            grid = grid + elastic.reshape(len(batch), 28, 28, 2)
            x = F.grid_sample(images[batch], grid, align_corners=False).reshape(len(batch), 784)
            optimizer.zero_grad()
            loss_fn(model(x), labels[batch]).backward()
            optimizer.step()

    epoch()
    return median_time(epoch, repeats)


def default_run(epochs: int | None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of `python src/NN_Numpy.py` with figures, into a temp folder.

    epochs=None is the whole default run; with a few epochs the peak memory is the same
    (every array is allocated in the first epoch), the seconds are not.
    """
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            str(ROOT / "src" / "NN_Numpy.py"),
            "--model",
            f"{tmp}/m.npz",
            "--figures-dir",
            tmp,
        ]
        start = time.perf_counter()
        subprocess.run(
            command + ([] if epochs is None else ["--epochs", str(epochs)]),
            check=True,
            capture_output=True,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )  # Agg: no window to wait for
        seconds = time.perf_counter() - start
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="BLAS thread counts to measure"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="epochs timed per measurement (median)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds of all measurements (median)"
    )
    parser.add_argument(
        "--skip-full-run",
        action="store_true",
        help="measure memory with a 2-epoch run instead of timing the whole default run",
    )
    args = parser.parse_args()

    source = kaggle_csv.find_data_file("train")
    # First, while this process is small: a child's peak RSS includes what it shared with us.
    if args.skip_full_run:
        print(f"peak memory (RSS) of a default training run (2 epochs): {default_run(2)[1]:.0f} MB")
    else:
        seconds, peak_mb = default_run(None)
        print(
            f"whole default run (python src/NN_Numpy.py: 100 epochs, figures): {seconds:.1f} s, "
            f"peak memory (RSS) {peak_mb:.0f} MB"
        )
    config = nn.TrainConfig()
    print(f"NN_Numpy default training: {asdict(config)}")
    start = time.perf_counter()
    pixels, labels = kaggle_csv.read_digits_csv(source)
    print(f"data loading: parsing and checking {source.name}: {time.perf_counter() - start:.2f} s")

    X, y = nn.normalize(pixels[:33600]), labels[:33600]
    n, flops = len(X), gemm_flops_per_sample() * len(X)
    print(
        f"one epoch = {n:,} samples, batch {config.batch_size}, {flops / 1e9:.2f} GFLOP in its "
        "8 matrix multiplies per batch\n"
    )

    contenders = {
        "default": lambda: numpy_epoch(X, y, config, args.repeats),
        # the same work as scikit-learn's and PyTorch's loops: no augmentation, no weight decay
        "same_work": lambda: numpy_epoch(
            X, y, replace(config, weight_decay=0.0, **NO_AUGMENTATION), args.repeats
        ),
        "no_distortions": lambda: numpy_epoch(
            X, y, replace(config, **NO_AUGMENTATION), args.repeats
        ),
        "plain": lambda: numpy_epoch(X, y, replace(config, **PLAIN), args.repeats),
        "gemm": lambda: gemm_epoch(n, config.batch_size, args.repeats),
        "sklearn": lambda: sklearn_epoch(X, y, config.batch_size, config.learning_rate),
    }
    for threads in args.threads:
        # Interleaved rounds, medians at the end: the machine's speed drifts over minutes,
        # and a drift should hit every contender alike, not the one that ran during it.
        times: dict[str, list[float]] = {
            name: [] for name in [*contenders, "torch", "torch_augmented"]
        }
        torch_version = None
        for _ in range(args.rounds):
            with threadpool_limits(threads):
                for name, measure in contenders.items():
                    times[name].append(measure())
            torch_result = torch_epoch(
                X, y, config.batch_size, config.learning_rate, threads, args.repeats
            )
            if torch_result is not None:
                times["torch"].append(torch_result[0])
                torch_version = torch_result[1]
                augmented = torch_augmented_epoch(X, y, config, threads, args.repeats)
                times["torch_augmented"].append(augmented)
        with threadpool_limits(threads):
            parts = epoch_breakdown(X, y, config)
            cpu = epoch_cpu(X, y, config)
        t = {name: float(np.median(values)) for name, values in times.items() if values}
        ours, gemm, same_work = t["default"], t["gemm"], t["same_work"]
        rounds = f"medians of {args.rounds} interleaved rounds"
        print(f"--- {threads} BLAS thread(s); seconds per epoch, {rounds} ---")
        print(
            f"NN_Numpy, default recipe (affine + elastic warps, weight decay): {ours:.3f} s, "
            f"{n / ours:,.0f} samples/s, {flops / ours / 1e9:.1f} GFLOP/s"
        )
        print(
            f"  its 8 matrix multiplies alone: {gemm:.3f} s, {flops / gemm / 1e9:.1f} GFLOP/s"
            f"  -> epoch / matrix multiplies = {ours / gemm:.2f}"
        )
        print(
            f"  the same run without distortions (--shift 0 --affine 0 --elastic 0): "
            f"{t['no_distortions']:.3f} s  -> default epoch / plain epoch = "
            f"{ours / t['no_distortions']:.3f}"
        )
        print(
            f"  where an epoch goes, CPU ms by thread in train(): main thread {cpu['main']:.0f} "
            f"(training, and drawing the distortions), worker {cpu['worker']:.0f} (the warps)"
        )
        where = ", ".join(f"{name} {ms:.0f}" for name, ms in parts.items())
        print(
            f"  the same parts timed one by one in one thread (CPU ms): {where} (forward and "
            "backward hold the multiplies; in train() the warp runs in the worker)"
        )
        print(
            f"NN_Numpy, plain SGD (no momentum, augmentation or weight decay): {t['plain']:.3f} s"
            f"  -> the default recipe costs {ours / t['plain']:.2f}x"
        )
        print(
            f"NN_Numpy, SGD with momentum (the same work as below): {same_work:.3f} s"
            f"  -> / matrix multiplies = {same_work / gemm:.2f}"
        )
        print(
            f"scikit-learn MLPClassifier (sgd, momentum, float32): {t['sklearn']:.3f} s"
            f"  -> NN_Numpy is {t['sklearn'] / same_work:.2f}x faster"
        )
        print(
            "  (scikit-learn runs the same 8 matrix multiplies: no loop that does them can be "
            f"more than {t['sklearn'] / gemm:.2f}x faster than it here)"
        )
        if torch_version is None:
            print(
                "PyTorch: not installed, skipped (pip install torch==2.13.0 to compare; it is "
                "not a project dependency)"
            )
        else:
            print(
                f"PyTorch {torch_version} (SGD momentum, tensors preloaded): {t['torch']:.3f} s"
                f"  -> NN_Numpy is {t['torch'] / same_work:.2f}x faster"
            )
            print(
                f"PyTorch, the default recipe (the same distortions batched with affine_grid + "
                f"grid_sample, weight decay): {t['torch_augmented']:.3f} s"
                f"  -> NN_Numpy's default recipe is {t['torch_augmented'] / ours:.2f}x faster"
            )
        print()


if __name__ == "__main__":
    main()
