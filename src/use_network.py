"""What you do with a trained network: read your own digits, write a Kaggle submission,
draw a report, check and explain the math.

    python src/use_network.py predict my_digit.jpg      # your own handwriting
    python src/use_network.py submit                    # Kaggle submission for test.csv
    python src/use_network.py report                    # figures and the run record
    python src/use_network.py gradcheck                 # backprop vs finite differences
    python src/use_network.py explain                   # every matrix multiply of a step

The network itself, and how it learns, is in NN_Numpy.py: train it first with
`python src/NN_Numpy.py`. This module imports it; it never imports this one.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

import NN_Numpy as nn

SUBMISSION_PATH = nn.PROJECT_ROOT / "models" / "submission.csv"


def load_digit_model(path: Path, dtype=nn.DTYPE) -> nn.NeuralNetwork:
    """A saved network that maps 784 pixels to 10 digits, or an InputError saying why not."""
    network = nn.NeuralNetwork.load(path, dtype)
    n_in, n_out = network.layer_sizes[0], network.layer_sizes[-1]
    if (n_in, n_out) != (nn.N_PIXELS, nn.N_CLASSES):
        raise nn.InputError(
            f"{path} maps {n_in} inputs to {n_out} outputs; a digit model "
            f"maps {nn.N_PIXELS} to {nn.N_CLASSES}"
        )
    return network


# --- Your own digits: a photo or scan turned into an MNIST-like 28x28 image --------------
# MNIST digits are white ink on black, scaled so the longer side is 20 pixels
# (anti-aliased), and placed in a 28x28 frame with their centre of mass at the centre.
# preprocess_image() does the same to any image of one digit.

WORKING_SIZE = 256  # big photos are shrunk to this first: plenty for a digit, and fast


def read_grayscale(path: str | Path) -> np.ndarray:
    """Any image Pillow reads (L, RGB, RGBA, P, 16-bit, ...) -> (H, W) float32 luminance in [0, 1].

    Transparent pixels are laid on a background that contrasts with the ink, so strokes
    drawn on a transparent canvas survive whatever their colour.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise nn.InputError(f"{path}: no such file")
    if path.is_dir():
        raise nn.InputError(f"{path}: is a folder, not an image")
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)  # phone photos: apply the camera's rotation
            image.thumbnail(
                (WORKING_SIZE, WORKING_SIZE)
            )  # shrink in place, keeping the aspect ratio
            if image.mode in (
                "I",
                "I;16",
                "I;16B",
                "I;16L",
                "F",
            ):  # 16/32-bit: scale by the type's range
                values = np.asarray(image, dtype=np.float32)
                gray, alpha = values / (65535 if values.max() > 255 else 255), None
            else:
                rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255  # (H, W, 4)
                gray = rgba[..., :3] @ np.array(
                    [0.299, 0.587, 0.114], np.float32
                )  # ITU-R 601 luma, as Pillow's "L"
                alpha = rgba[..., 3]
    except UnidentifiedImageError:
        raise nn.InputError(f"{path}: not an image (Pillow cannot identify its format)") from None
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise nn.InputError(f"{path}: unreadable image ({error})") from None
    if alpha is not None and alpha.min() < 1:
        ink_is_dark = (gray * alpha).sum() / max(alpha.sum(), 1e-6) < 0.5
        gray = alpha * gray + (1 - alpha) * (1.0 if ink_is_dark else 0.0)
    return np.clip(gray, 0, 1)


def ink_map(gray: np.ndarray) -> np.ndarray:
    """(H, W) luminance -> (H, W) ink in [0, 1]: 0 where there is only paper.

    Polarity from the border: a light border means dark ink on light paper. The paper's
    own level is estimated locally (a grey closing wider than the strokes, from Pillow's
    MinFilter/MaxFilter), so uneven lighting and grey paper are removed too.
    """
    from PIL import Image, ImageFilter

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    dark_ink = np.median(border) > 0.5
    ink = 1 - gray if dark_ink else gray  # now ink is bright on a dark background
    # The background level: a grey opening (min filter, then max filter) a third of the image
    # wide wipes out the strokes and keeps the slowly varying paper. It is computed on a 64 px
    # copy (the background is smooth; full size would be slow) and scaled back up.
    image = Image.fromarray(ink.astype(np.float32), mode="F")
    small = image.resize(
        (max(1, ink.shape[1] * 64 // max(ink.shape)), max(1, ink.shape[0] * 64 // max(ink.shape))),
        Image.Resampling.BOX,
    )
    size = 2 * (max(small.size) // 6) + 1
    background = small.filter(ImageFilter.MinFilter(size)).filter(ImageFilter.MaxFilter(size))
    ink = ink - np.asarray(
        background.resize(image.size, Image.Resampling.BILINEAR), dtype=np.float32
    )
    if ink.max() < 0.1:  # less than 10% contrast anywhere: no digit to see
        return np.zeros_like(ink)
    # Contrast: strongest ink -> 1; below 20% of it is paper texture or JPEG noise -> 0.
    return np.clip((ink / ink.max() - 0.2) / 0.8, 0, 1)


def to_mnist_frame(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink -> (784,) like an MNIST digit: cropped to the ink, its longer side scaled to
    20 px, its centre of mass at the centre of the 28x28 frame."""
    from PIL import Image

    rows, cols = np.nonzero(ink)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    digit = ink[top:bottom, left:right]
    height, width = digit.shape
    scale = 20 / max(height, width)
    new_size = (
        max(1, round(width * scale)),
        max(1, round(height * scale)),
    )  # Pillow sizes are (width, height)
    small = np.asarray(
        Image.fromarray(digit.astype(np.float32), mode="F").resize(
            new_size, Image.Resampling.LANCZOS
        )
    )
    small = np.clip(small, 0, None)
    small = small / max(small.max(), 1e-6)  # strongest stroke -> 1 again after anti-aliasing
    # Centre of mass -> the frame's centre (13.5, 13.5), rounded to whole pixels.
    ys, xs = np.indices(small.shape)
    total = small.sum()
    com_y, com_x = (ys * small).sum() / total, (xs * small).sum() / total
    top = int(np.clip(round(13.5 - com_y), 0, 28 - small.shape[0]))
    left = int(np.clip(round(13.5 - com_x), 0, 28 - small.shape[1]))
    frame = np.zeros((28, 28), nn.DTYPE)
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame.reshape(nn.N_PIXELS)


def preprocess_image(path: str | Path) -> np.ndarray:
    """An image file of one digit -> (784,) float32 in [0, 1], white ink on black, like MNIST."""
    ink = ink_map(read_grayscale(path))
    if not ink.any():
        raise nn.InputError(f"{path}: no ink found (the image looks blank: one flat colour)")
    return to_mnist_frame(ink)


def save_preprocessed(image: np.ndarray, path: Path) -> None:
    """The 28x28 image the network saw, as an 8-bit PNG (white ink on black)."""
    from PIL import Image

    with nn.atomic_write(path) as f:
        Image.fromarray(np.round(image.reshape(28, 28) * 255).astype(np.uint8), mode="L").save(
            f, format="PNG"
        )


# --- Report figures ----------------------------------------------------------------------


def plot_confusion_matrix(labels, predicted, path: Path, what="validation digits"):
    """Counts of true digit (rows) against predicted digit (columns), from scikit-learn."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(7, 6))
    ConfusionMatrixDisplay.from_predictions(labels, predicted, ax=ax, cmap="Blues")
    right = 100 * (labels == predicted).mean()
    ax.set_title(f"Confusion matrix: {len(labels):,} {what}\n{right:.2f}% on the diagonal (right)")
    ax.set(xlabel="predicted digit", ylabel="true digit")
    nn.save_figure(fig, path)
    return fig


def plot_confident_mistakes(images, labels, probs, path: Path, n=24):
    """The wrong predictions the network was most sure of, with both probabilities."""
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    shown = wrong[np.argsort(-probs[wrong, predicted[wrong]])][:n]  # most confident first
    captions = [
        f"said {predicted[i]} {100 * probs[i, predicted[i]]:.0f}%\n"
        f"true {labels[i]} {100 * probs[i, labels[i]]:.0f}%"
        for i in shown
    ]
    title = f"The {len(shown)} most confident mistakes (of {len(wrong)}), with probabilities"
    return nn.plot_digit_grid(images[shown], captions, ["red"] * len(shown), title, path)


def plot_first_layer_weights(network: nn.NeuralNetwork, path: Path):
    """Each first-layer unit's 784 weights as a 28x28 image: the pattern that unit responds to."""
    import matplotlib.pyplot as plt

    weights = network.layers[0].weights  # (784, n_hidden): column j is unit j's template
    n_units, cols = weights.shape[1], 16
    rows = -(-n_units // cols)
    # One mosaic image: tiles of 28x28 with a 1-pixel gap (NaN, drawn grey) between them.
    tiles = np.full((rows * cols, 29, 29), np.nan)
    tiles[:n_units, :28, :28] = weights.T.reshape(n_units, 28, 28)
    mosaic = tiles.reshape(rows, cols, 29, 29).transpose(0, 2, 1, 3).reshape(rows * 29, cols * 29)
    limit = np.percentile(np.abs(weights), 99.5)  # a few extreme weights would wash out the rest
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.85")
    fig, ax = plt.subplots(figsize=(cols * 0.75, rows * 0.75 + 0.8))
    shown = ax.imshow(mosaic, cmap=cmap, vmin=-limit, vmax=limit)
    ax.axis("off")
    label = "weight (red: ink here raises the unit, blue: lowers it)"
    fig.colorbar(shown, ax=ax, shrink=0.8, extend="both", label=label)
    ax.set_title(f"What each of the {n_units} first-layer units looks for: its 28x28 weights")
    nn.save_figure(fig, path)
    return fig


# --- Commands ----------------------------------------------------------------------------


def predict_proba_tta(network: nn.NeuralNetwork, X, tta=True) -> np.ndarray:
    """Class probabilities (N, 10) of images X (N, 784). With tta (test-time augmentation), the
    mean over each image and 4 copies moved by one pixel, up, down, left and right: the network
    trained on moved digits, and 5 slightly different looks outvote a borderline one."""
    if not tta:
        return network.predict_proba(X)
    padded = np.pad(np.asarray(X, network.dtype).reshape(-1, 28, 28), [(0, 0), (1, 1), (1, 1)])
    moves = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]  # (down, right) in pixels
    views = (padded[:, 1 - y : 29 - y, 1 - x : 29 - x].reshape(-1, 784) for y, x in moves)
    return sum(network.predict_proba(view) for view in views) / len(moves)


def predict_command(args: argparse.Namespace) -> int:
    """One line per image: the digit, its probability, and the two runners-up. Bad files are
    reported and skipped, the others still predicted; the exit status says if any failed."""
    network = load_digit_model(args.model)
    paths, images, failed = [], [], 0
    for path in args.images:
        try:
            image = preprocess_image(path)
        except nn.InputError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        if args.save_preprocessed:
            save_preprocessed(image, args.save_preprocessed / f"{path.stem}.28x28.png")
        paths.append(path)
        images.append(image)
    if images:
        for path, probs in zip(paths, predict_proba_tta(network, np.stack(images), args.tta)):
            first, *runners_up = np.argsort(-probs)[:3]
            others = ", ".join(f"{d} ({100 * probs[d]:.1f}%)" for d in runners_up)
            print(f"{path}: {first} ({100 * probs[first]:.1f}%)  runner-up: {others}")
    if args.save_preprocessed and images:
        print(f"The 28x28 images the network saw are in {args.save_preprocessed}/")
    if failed:
        print(
            f"error: {failed} of {len(args.images)} images could not be read (see above)",
            file=sys.stderr,
        )
    return 1 if failed else 0


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


def submit_command(args: argparse.Namespace) -> int:
    import pandas as pd

    network = load_digit_model(args.model)
    test_file = args.test if args.test is not None else nn.find_data_file("test")
    if not test_file.is_file():
        raise nn.InputError(f"{test_file}: no such file; pass Kaggle's test.csv with --test")
    pixels, _ = nn.read_digits_csv(test_file, labelled=False)
    labels = predict_proba_tta(network, nn.normalize(pixels), args.tta).argmax(axis=1)
    ids = np.arange(1, len(labels) + 1)
    text = pd.DataFrame({"ImageId": ids, "Label": labels}).to_csv(index=False)
    check_submission(text, len(pixels))
    with nn.atomic_write(args.out) as f:
        f.write(text.encode())
    counts = ", ".join(f"{d}: {n}" for d, n in enumerate(np.bincount(labels, minlength=10)))
    print(
        f"Submission for {len(labels):,} rows of {nn.display_path(test_file)} written to "
        f"{nn.display_path(args.out)}"
    )
    print(f"Checked: header ImageId,Label, ImageId 1..{len(labels)}, labels 0-9 (counts {counts})")
    return 0


def report_command(args: argparse.Namespace) -> int:
    """The run record saved inside the model, and every figure, on the same validation split."""
    from sklearn.metrics import classification_report

    network = load_digit_model(args.model)
    record = network.record
    try:
        config = nn.TrainConfig(**record["settings"])
        history, metrics, data = record["history"], record["metrics"], record["data"]
        source = nn.PROJECT_ROOT / data["path"]  # relative to the project, or absolute
        print(
            f"Model: {nn.display_path(args.model)}, trained {record['created']} with: "
            f"{' '.join(record['command'])}"
        )
        print(f"Data: {data['path']} (sha256 {data['sha256'][:16]}...), {data['rows']:,} rows")
        print(f"Training: {len(history)} epochs in {metrics['seconds']:.1f}s")
    except (KeyError, TypeError, ValueError) as error:
        raise nn.InputError(
            f"{args.model} has no usable run record ({error!r}); retrain it: python src/NN_Numpy.py"
        ) from None
    split = nn.load_split(source.parent, config)
    if split["sha256"] != data["sha256"]:
        print(
            f"warning: {data['path']} has changed since training; the figures use it as it is now",
            file=sys.stderr,
        )
    X, y, what = split["X_val"], split["y_val"], "validation digits"
    if X is None:
        X, y, what = split["X_train"], split["y_train"], "training digits (no validation split)"
    print("Settings: " + ", ".join(f"{k}={v}" for k, v in record["settings"].items()))
    probs = network.predict_proba(X)
    predicted = probs.argmax(axis=1)
    accuracy = 100 * (predicted == y).mean()
    print(
        f"Accuracy on {len(y):,} {what}: {accuracy:.2f}% "
        f"(at training time: {100 * metrics['accuracy']:.2f}%)"
    )
    print(classification_report(y, predicted, digits=4, zero_division=0))
    folder = args.figures_dir
    what = what.split(" (")[0]
    nn.plot_predictions(X, y, predicted[:32], folder / "predictions.png", what)
    nn.plot_training_curves(history, folder / "training_curves.png")
    plot_confusion_matrix(y, predicted, folder / "confusion_matrix.png", what)
    plot_confident_mistakes(X, y, probs, folder / "confident_mistakes.png")
    plot_first_layer_weights(network, folder / "first_layer_weights.png")
    print(
        f"Figures saved to {nn.display_path(folder)}/: predictions.png, training_curves.png, "
        "confusion_matrix.png, confident_mistakes.png, first_layer_weights.png"
    )
    nn.show_figures_if_possible()
    return 0


# --- Checking and explaining the math -----------------------------------------------------


def gradient_check(network, x, labels, entries=30, eps=1e-6, seed=0) -> dict[str, float]:
    """Backpropagation's gradients against central finite differences, per parameter array.

    For `entries` random entries of every weight and bias array, the numerical gradient
    (L(theta + eps) - L(theta - eps)) / 2 eps is compared with the analytic one. Returns
    {"weights_0": relative error, "bias_0": ...}, the error being max |analytic - numeric|
    / max(|analytic|, |numeric|) over the entries checked. Use a float64 network: in
    float32, rounding alone gives errors near 1e-3.
    """
    rng = np.random.default_rng(seed)

    def loss() -> float:
        return nn.softmax_cross_entropy(network.forward(x), labels)[0]

    network.backward(nn.softmax_cross_entropy(network.forward(x), labels)[1])
    names = [f"{kind}_{i}" for i in range(len(network.layers)) for kind in ("weights", "bias")]
    errors = {}
    for name, param, grad in zip(names, network.parameters(), network.gradients()):
        flat_param, analytic = param.reshape(-1), grad.reshape(-1).copy()
        picked = rng.choice(flat_param.size, size=min(entries, flat_param.size), replace=False)
        numeric = np.empty(len(picked))
        for k, j in enumerate(picked):
            saved = flat_param[j]
            flat_param[j] = saved + eps
            plus = loss()
            flat_param[j] = saved - eps
            minus = loss()
            flat_param[j] = saved
            numeric[k] = (plus - minus) / (2 * eps)
        scale = max(np.abs(analytic[picked]).max(), np.abs(numeric).max(), 1e-12)
        errors[name] = float(np.abs(analytic[picked] - numeric).max() / scale)
    return errors


def explain_step(network: nn.NeuralNetwork, x, labels) -> list[str]:
    """One forward and backward pass, each matrix multiply described with its real shapes."""
    sizes = "-".join(map(str, network.layer_sizes))
    lines = [f"One training step on a batch of B={len(x)} images, network {sizes}", "forward:"]
    logits = network.forward(x)
    for i, layer in enumerate(network.layers, 1):
        output = "z, the logits (softmax is in the loss)" if i == len(network.layers) else "relu(z)"
        shapes = f"{layer.input.shape} @ {layer.weights.shape} + {layer.bias.shape}"
        lines.append(
            f"  layer {i}: z = input @ weights + bias: {shapes} -> "
            f"{layer.output.shape}; output = {output}"
        )
    loss, grad_logits = nn.softmax_cross_entropy(logits, labels)
    lines.append(
        f"loss: mean cross-entropy {loss:.4f}; dL/dlogits = (softmax(logits) - onehot)"
        f" / {len(x)}: {grad_logits.shape}"
    )
    lines.append("backward:")
    grad = grad_logits
    for i in reversed(range(len(network.layers))):
        layer = network.layers[i]
        grad_in = layer.backward(grad, need_grad_input=i > 0)
        how = (
            "dL/doutput (softmax in the loss)"
            if layer.activation == "softmax"
            else ("dL/doutput * relu'(z)")
        )
        text = (
            f"  layer {i + 1}: grad_z = {how}: {grad.shape}; grad_weights = input.T @ grad_z:"
            f" {layer.input.T.shape} @ {grad.shape} -> {layer.grad_weights.shape}; grad_bias ="
            f" sum over the batch: {layer.grad_bias.shape}"
        )
        if grad_in is None:
            text += "; no grad_input (first layer)"
        else:
            text += (
                f"; grad_input = grad_z @ weights.T: {grad.shape} @ {layer.weights.T.shape}"
                f" -> {grad_in.shape}"
            )
        lines.append(text)
        grad = grad_in
    n = nn.count_parameters(network.layer_sizes)
    lines.append(f"update: each of the {n:,} parameters moves against its gradient (SGD step)")
    return lines


def random_batch(data_dir, batch_size: int, seed: int, dtype=nn.DTYPE):
    """`batch_size` random labelled images from the training file, normalised."""
    if not 1 <= batch_size <= 10_000:
        raise nn.InputError(f"--batch-size must be 1-10000, got {batch_size}")
    if seed < 0:
        raise nn.InputError(f"--seed must be >= 0, got {seed}")
    pixels, labels = nn.read_digits_csv(nn.find_data_file("train", data_dir))
    rows = np.random.default_rng(seed).choice(
        len(labels), size=min(batch_size, len(labels)), replace=False
    )
    return nn.normalize(pixels[rows]).astype(dtype), labels[rows]


def gradcheck_command(args: argparse.Namespace, tolerance=1e-6) -> int:
    if args.entries < 1:
        raise nn.InputError(f"--entries must be >= 1, got {args.entries}")
    if args.model:
        network = load_digit_model(args.model, dtype=np.float64)
    else:
        network = nn.NeuralNetwork(seed=max(args.seed, 0), dtype=np.float64)
    x, labels = random_batch(args.data_dir, args.batch_size, args.seed, np.float64)
    weights = f"weights of {args.model}" if args.model else "initial weights"
    print(
        f"Gradient check: network {'-'.join(map(str, network.layer_sizes))}, {weights}, "
        f"float64, a batch of {len(x)} real training images, central differences "
        f"(eps 1e-6), {args.entries} random entries per array"
    )
    errors = gradient_check(network, x, labels, entries=args.entries, seed=args.seed)
    for (name, error), param in zip(errors.items(), network.parameters()):
        verdict = "ok" if error < tolerance else "FAIL"
        print(f"  {name:<10} {str(param.shape):<11} relative error {error:.2e}  {verdict}")
    worst = max(errors.values())
    passed = worst < tolerance
    print(
        f"{'PASS' if passed else 'FAIL'}: largest relative error {worst:.2e} "
        f"({'<' if passed else '>='} {tolerance:g})"
    )
    return 0 if passed else 1


def explain_command(args: argparse.Namespace) -> int:
    x, labels = random_batch(args.data_dir, args.batch_size, args.seed)
    print("\n".join(explain_step(nn.NeuralNetwork(seed=args.seed), x, labels)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="use_network.py",
        formatter_class=formatter,
        description="Use a network trained by python src/NN_Numpy.py: read your own digits, "
        "write a Kaggle submission, draw a report, check and explain the math.",
    )
    commands = parser.add_subparsers(dest="command", title="commands", required=True)

    def command(name: str, help: str, description: str, model_default=nn.MODEL_PATH):
        sub = commands.add_parser(
            name, formatter_class=formatter, help=help, description=description
        )
        sub.add_argument("--model", type=Path, default=model_default, help="trained model (.npz)")
        return sub

    predict = command(
        "predict",
        "classify your own images of digits",
        "Classify image files (PNG, JPEG, ...) of single handwritten digits.",
    )
    predict.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="one digit each")
    predict.add_argument(
        "--save-preprocessed",
        type=Path,
        metavar="DIR",
        help="also write the 28x28 image the network saw, as DIR/<name>.28x28.png",
    )
    submit = command(
        "submit",
        "write a Kaggle submission for test.csv",
        "Predict every row of Kaggle's test.csv and write ImageId,Label.",
    )
    submit.add_argument(
        "--test",
        type=Path,
        help="test CSV; default: data/raw/test.csv if there, else the bundled copy",
    )
    submit.add_argument("--out", type=Path, default=SUBMISSION_PATH, help="the submission CSV")
    for sub in (predict, submit):
        sub.add_argument("--tta", action="store_true", help="average over 5 one-pixel moves")
    report = command(
        "report",
        "figures and the run record of a trained model",
        "Print the run record saved in the model and draw every figure on its validation split.",
    )
    report.add_argument("--figures-dir", type=Path, default=nn.FIGURES_DIR, help="figures folder")
    gradcheck = command(
        "gradcheck",
        "check backpropagation against finite differences",
        "Compare every parameter array's backpropagated gradient with central "
        "finite differences, in float64, on a batch of real training images.",
        model_default=None,
    )
    gradcheck.add_argument("--batch-size", type=int, default=8, help="images in the batch")
    gradcheck.add_argument("--entries", type=int, default=30, help="entries checked per array")
    explain = commands.add_parser(
        "explain",
        formatter_class=formatter,
        help="print every matrix multiply of one training step",
        description="Run one forward and backward pass on a real batch "
        "and print each layer's shapes and matrix multiplies.",
    )
    explain.add_argument("--batch-size", type=int, default=128, help="images in the batch")
    for sub in (gradcheck, explain):
        sub.add_argument("--seed", type=int, default=0, help="picks the images and the weights")
        sub.add_argument("--data-dir", type=Path, default=None, help="folder with train.csv[.gz]")
    return parser


COMMANDS = {
    "predict": predict_command,
    "submit": submit_command,
    "report": report_command,
    "gradcheck": gradcheck_command,
    "explain": explain_command,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return nn.report_errors(lambda: COMMANDS[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
