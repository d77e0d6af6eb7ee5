"""What you do with a trained network: read your own digits, write a Kaggle submission,
draw a report, check and explain the math.

    python src/use_network.py predict my_digit.jpg      # your own handwriting
    python src/use_network.py draw                      # draw one in your browser
    python src/use_network.py submit                    # Kaggle submission for test.csv
    python src/use_network.py report                    # figures and the run record
    python src/use_network.py gradcheck                 # backprop vs finite differences
    python src/use_network.py explain                   # every matrix multiply of a step

The network itself, and how it learns, is in NN_Numpy.py: train it first with
`python src/NN_Numpy.py`. This module imports it; it never imports this one.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import sys
import threading
import warnings
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

import file_io
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
MAX_IMAGE_BYTES = 50 * 2**20  # a larger file is refused before it is read
MAX_PIXELS = 40_000_000  # refused from the header, before decoding (Pillow's own limit: 89 M)


def read_grayscale(source: Path | bytes, name: str = "image") -> np.ndarray:
    """An image file, or its bytes, in any mode Pillow reads (L, RGB, RGBA, P, 16-bit, float)
    -> (H, W) float32 luminance in [0, 1].

    Only regular files are opened (a pipe would block forever), and the size is checked
    from the header before any pixel is decoded. Transparent pixels are laid on a
    background that contrasts with the ink, so strokes on a transparent canvas survive.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, Path):
        name = str(source)
        if not source.exists():
            raise nn.InputError(f"{source}: no such file")
        if not source.is_file():
            raise nn.InputError(f"{source}: not a regular file (a folder, pipe or device)")
        if source.stat().st_size > MAX_IMAGE_BYTES:
            raise nn.InputError(f"{source}: over {MAX_IMAGE_BYTES // 2**20} MB; not a photo")
        source = source.read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source))
        if image.width * image.height > MAX_PIXELS:
            raise nn.InputError(
                f"{name}: {image.width}x{image.height} pixels, more than the "
                f"{MAX_PIXELS // 10**6} million accepted; shrink it first"
            )
        image.draft(None, (WORKING_SIZE, WORKING_SIZE))  # a JPEG decodes at 1/2-1/8 size: fast
        image = ImageOps.exif_transpose(image)  # phone photos: apply the camera's rotation
        image.thumbnail((WORKING_SIZE, WORKING_SIZE))  # shrink, keeping the aspect ratio
        if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16/32-bit or float pixels
            values, alpha = np.asarray(image, dtype=np.float32), None
            if not np.isfinite(values).all():
                raise nn.InputError(f"{name}: some pixels are NaN or infinite")
            top = values.max()
            gray = values / (1 if image.mode == "F" and top <= 1 else 255 if top <= 255 else 65535)
        else:
            rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255  # (H, W, 4)
            # ITU-R 601 luma, as Pillow's "L": (H, W, 3) @ (3,) -> (H, W)
            gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
            alpha = rgba[..., 3]
    except nn.InputError:
        raise
    except UnidentifiedImageError:
        raise nn.InputError(f"{name}: not an image (Pillow cannot identify its format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise nn.InputError(f"{name}: too many pixels (over Pillow's safety limit)") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise nn.InputError(f"{name}: unreadable image ({error})") from None
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
    height, width = (max(1, side * 64 // max(ink.shape)) for side in ink.shape)
    small = image.resize((width, height), Image.Resampling.BOX)
    size = 2 * (max(small.size) // 6) + 1
    background = small.filter(ImageFilter.MinFilter(size)).filter(ImageFilter.MaxFilter(size))
    background = background.resize(image.size, Image.Resampling.BILINEAR)
    ink = ink - np.asarray(background, dtype=np.float32)
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
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # (width, height)
    small = Image.fromarray(digit.astype(np.float32), mode="F")
    small = np.asarray(small.resize(new_size, Image.Resampling.LANCZOS))
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


def preprocess_image(source: Path | bytes, name: str = "image") -> np.ndarray | None:
    """An image of one digit -> (784,) float32 in [0, 1], white ink on black, like MNIST;
    None when there is no ink to see (a blank page or canvas)."""
    ink = ink_map(read_grayscale(source, name))
    return to_mnist_frame(ink) if ink.any() else None


def save_preprocessed(image: np.ndarray, path: Path) -> None:
    """The 28x28 image the network saw, as an 8-bit PNG (white ink on black)."""
    from PIL import Image

    with nn.atomic_write(path) as f:
        Image.fromarray(np.round(image.reshape(28, 28) * 255).astype(np.uint8), mode="L").save(
            f, format="PNG"
        )


# --- Why the network answered, and when it is not sure ------------------------------------


def input_gradient(network: nn.NeuralNetwork, x: np.ndarray, digit: int) -> np.ndarray:
    """d(logit of `digit`) / d(pixel) for one image x (1, 784): the pixels that pushed towards
    that answer (> 0: more ink there raises its score). The network's own backward pass,
    started from a one-hot instead of the loss's gradient, carried through the first layer."""
    logits = network.forward(x)  # (1, 10)
    grad_logits = nn.one_hot(np.array([digit]), logits.shape[1], logits.dtype)  # (1, 10)
    return network.backward(grad_logits, need_grad_input=True)[0]  # (784,)


def verdict(probs: np.ndarray, threshold: float) -> tuple[int | None, str]:
    """(7, "7"), or (None, "not sure (best guess 7, 41%)") when the top probability is below
    the threshold stored with the model (see NN_Numpy.not_sure_threshold)."""
    best = int(np.argmax(probs))
    if probs[best] >= threshold:
        return best, str(best)
    return None, f"not sure (best guess {best}, {int(100 * probs[best])}%)"  # rounded down


def threshold_of(network: nn.NeuralNetwork) -> float:
    """The model's "not sure" threshold, set on its validation rows at training time; 0
    (always answer) for a model saved without one."""
    return float(file_io.optional(network.record, "metrics.not_sure_threshold", 0.0))


def plot_explanation(image, probs, saliency, title: str, path: Path):
    """The 28x28 image the network saw, the pixels that pushed towards its answer, and the
    ten probabilities, side by side."""
    import matplotlib.pyplot as plt

    fig, (ax_image, ax_heat, ax_bars) = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
    ax_image.imshow(image.reshape(28, 28), cmap="gray", vmin=0, vmax=1)
    ax_image.set_title("what the network saw")
    limit = max(np.abs(saliency).max(), 1e-12)
    heat = ax_heat.imshow(saliency.reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax_heat.contour(image.reshape(28, 28), [0.5], colors="k", linewidths=0.8)  # the digit
    ax_heat.set_title("red: ink here raises the answer")
    fig.colorbar(heat, ax=ax_heat, shrink=0.8)
    for ax in (ax_image, ax_heat):
        ax.axis("off")
    colors = ["tab:green" if d == np.argmax(probs) else "tab:gray" for d in range(10)]
    ax_bars.bar(range(10), probs, color=colors)
    ax_bars.set(xticks=range(10), ylim=(0, 1), title="probabilities", xlabel="digit")
    fig.suptitle(title)
    nn.save_figure(fig, path)
    plt.close(fig)


# --- Report figures ----------------------------------------------------------------------


def plot_confusion_matrix(labels, predicted, path: Path, what="validation digits", names=None):
    """Counts of true class (rows) against predicted class (columns), from scikit-learn."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    names, kind = (names, "class") if names and names != nn.DIGIT_NAMES else (None, "digit")
    fig, ax = plt.subplots(figsize=(7, 6) if names is None else (9, 8))
    ConfusionMatrixDisplay.from_predictions(
        labels,
        predicted,
        labels=range(nn.N_CLASSES),
        display_labels=names,
        ax=ax,
        cmap="Blues",
        xticks_rotation="horizontal" if names is None else 45,
    )
    right = 100 * (labels == predicted).mean()
    ax.set_title(f"Confusion matrix: {len(labels):,} {what}\n{right:.2f}% on the diagonal (right)")
    ax.set(xlabel=f"predicted {kind}", ylabel=f"true {kind}")
    nn.save_figure(fig, path)
    return fig


def plot_confident_mistakes(images, labels, probs, path: Path, n=24, names=None):
    """The wrong predictions the network was most sure of, with both probabilities."""
    names = names or nn.DIGIT_NAMES
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    shown = wrong[np.argsort(-probs[wrong, predicted[wrong]])][:n]  # most confident first
    captions = [
        f"said {names[predicted[i]]} {100 * probs[i, predicted[i]]:.0f}%\n"
        f"true {names[labels[i]]} {100 * probs[i, labels[i]]:.0f}%"
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


def plot_calibration(probs, labels, threshold: float, path: Path):
    """Is a 90% answer right 90% of the time? And how accurate are the answers the network is
    surest of, as it answers fewer of them? The model's "not sure" threshold is marked."""
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    top, right = probs.max(axis=1), probs.argmax(axis=1) == labels
    fig, (ax_cal, ax_share) = plt.subplots(1, 2, figsize=(11, 4.2))
    observed, predicted = calibration_curve(right, top, n_bins=10)
    ax_cal.plot([0, 1], [0, 1], ":", color="gray", label="perfectly calibrated")
    ax_cal.plot(predicted, observed, "o-", label="the network (bins 0.1 wide)")
    counts = np.histogram(top, bins=np.linspace(0, 1, 11))[0]
    for x, y, count in zip(predicted, observed, counts[counts > 0]):
        ax_cal.annotate(f"{count}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax_cal.set(
        xlabel="top probability",
        ylabel="share of those answers that are right",
        title="Calibration",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
    )
    ax_cal.legend()
    order = np.argsort(-top, kind="stable")  # answer the surest first
    share = np.arange(1, len(top) + 1) / len(top)
    ax_share.plot(100 * share, 100 * np.cumsum(right[order]) / np.arange(1, len(top) + 1))
    answered = (top >= threshold).mean()
    label = f"not-sure threshold {threshold:.4f}: answers {100 * answered:.1f}%"
    ax_share.axvline(100 * answered, color="tab:red", linestyle="--", label=label)
    ax_share.set(
        xlabel="share of answers given (%), surest first",
        ylabel="accuracy (%)",
        title="Accuracy against the share of answers given",
    )
    ax_share.legend(loc="lower left")
    for ax in (ax_cal, ax_share):
        ax.grid(alpha=0.3)
    nn.save_figure(fig, path)
    return fig


def plot_mistake_heat_maps(network, images, labels, probs, path: Path, names=nn.DIGIT_NAMES, n=8):
    """The most confident mistakes, each over the pixels that pushed towards its wrong answer."""
    import matplotlib.pyplot as plt

    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    shown = wrong[np.argsort(-probs[wrong, predicted[wrong]])][:n]
    fig, axes = plt.subplots(2, max(len(shown), 1), figsize=(1.6 * max(len(shown), 1), 3.6))
    axes = np.asarray(axes).reshape(2, -1)
    for column, i in enumerate(shown):
        saliency = input_gradient(network, images[i : i + 1].astype(network.dtype), predicted[i])
        limit = max(np.abs(saliency).max(), 1e-12)
        axes[0, column].imshow(images[i].reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        title = f"said {names[predicted[i]]}\ntrue {names[labels[i]]}"
        axes[0, column].set_title(title, fontsize=8, color="red")
        axes[1, column].imshow(saliency.reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, column].contour(images[i].reshape(28, 28), [0.5], colors="k", linewidths=0.6)
    for ax in axes.flat:
        ax.axis("off")
    title = "Most confident mistakes, and the pixels behind them (red: pushed towards the wrong"
    fig.suptitle(f"{title} answer; outline: the digit)", fontsize=9)
    fig.subplots_adjust(hspace=0.05)
    nn.save_figure(fig, path)
    return fig


# --- Commands ----------------------------------------------------------------------------


def require_digit_classes(network: nn.NeuralNetwork, path: Path, what: str) -> None:
    """Own photos and drawings are made to look like MNIST digits: a model trained on other
    classes (Fashion-MNIST, a names file) cannot read them, so refuse it in one line."""
    names = file_io.optional(network.record, "data.classes", nn.DIGIT_NAMES)
    if names != nn.DIGIT_NAMES:
        raise nn.InputError(
            f"{path} classifies {', '.join(names[:3])}, ... (not the digits 0-9); {what} "
            "prepares images of handwritten digits only: use a model trained on digits"
        )


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
    """One line per image: the digit and its probability, or "not sure" with the best guess,
    or "no digit", and the two runners-up. An unreadable file is reported and skipped, the
    others still predicted; the exit status says whether any failed."""
    network = load_digit_model(args.model)
    require_digit_classes(network, args.model, "predict")
    threshold, failed = threshold_of(network), 0
    stems = [f"{p.stem}-{hashlib.sha256(str(p).encode()).hexdigest()[:8]}" for p in args.images]
    outputs = []  # every file this run may write, checked before any work
    if args.save_preprocessed:
        outputs += [args.save_preprocessed / f"{stem}.28x28.png" for stem in stems]
    if args.explain:
        outputs += [args.explain / f"{stem}.why.png" for stem in stems]
    file_io.check_outputs(outputs, [args.model, *args.images])
    for path, stem in zip(args.images, stems):
        try:
            image = preprocess_image(path)
        except nn.InputError as error:  # one line, whatever the file's name holds
            print(f"error: {error}".replace("\n", "\\n"), file=sys.stderr)
            failed += 1
            continue
        shown = repr(str(path))[1:-1]  # a newline in a file name cannot forge an output line
        if image is None:
            print(f"{shown}: no digit (the image looks blank)")
            continue
        probs = predict_proba_tta(network, image[np.newaxis], args.tta)[0]  # (10,)
        _, answer = verdict(probs, threshold)
        first, *runners_up = np.argsort(-probs)[:3]
        others = ", ".join(f"{d} ({100 * probs[d]:.1f}%)" for d in runners_up)
        confidence = f" ({100 * probs[first]:.1f}%)" if answer == str(first) else ""
        print(f"{shown}: {answer}{confidence}  runner-up: {others}")
        if args.save_preprocessed:
            save_preprocessed(image, args.save_preprocessed / f"{stem}.28x28.png")
        if args.explain:
            saliency = input_gradient(network, image[np.newaxis].astype(network.dtype), first)
            plot_explanation(
                image, probs, saliency, f"{path.name}: {answer}", args.explain / f"{stem}.why.png"
            )
    for option, what in ((args.save_preprocessed, "28x28 images"), (args.explain, "explanations")):
        if option:
            print(f"The {what} are in {option}/ (named <image>-<hash of its path>)")
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
    file_io.check_outputs([args.out], [args.model, test_file])
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
        names = data.get("classes", nn.DIGIT_NAMES)  # records before issue #15: digits
        source = nn.PROJECT_ROOT / data["path"]  # relative to the project, or absolute
        print(
            f"Model: {nn.display_path(args.model)}, trained {record['created']} with: "
            f"{' '.join(record['command'])}"
        )
        print(f"Data: {data['path']} (sha256 {data['sha256'][:16]}...), {data['rows']:,} rows")
        print(f"Classes: {', '.join(names)}")
        print(f"Training: {len(history)} epochs in {metrics['seconds']:.1f}s")
    except (KeyError, TypeError, ValueError) as error:
        raise nn.InputError(
            f"{args.model} has no usable run record ({error!r}); retrain it: python src/NN_Numpy.py"
        ) from None
    names_out = [
        "predictions",
        "training_curves",
        "confusion_matrix",
        "confident_mistakes",
        "first_layer_weights",
        "calibration",
        "mistake_heat_maps",
    ]
    figures = {name: args.figures_dir / f"{name}.png" for name in names_out}
    file_io.check_outputs(list(figures.values()), [args.model, source])
    split = nn.load_split(source.parent, config)
    if split["sha256"] != data["sha256"]:
        print(
            f"warning: {data['path']} has changed since training; the figures use it as it is now",
            file=sys.stderr,
        )
    noun = "digits" if names == nn.DIGIT_NAMES else "images"
    X, y, what = split["X_val"], split["y_val"], f"validation {noun}"
    if X is None:
        X, y, what = split["X_train"], split["y_train"], f"training {noun} (no validation split)"
    print("Settings: " + ", ".join(f"{k}={v}" for k, v in record["settings"].items()))
    probs = network.predict_proba(X)
    predicted = probs.argmax(axis=1)
    accuracy = 100 * (predicted == y).mean()
    print(
        f"Accuracy on {len(y):,} {what}: {accuracy:.2f}% "
        f"(at training time: {100 * metrics['accuracy']:.2f}%)"
    )
    if "test_accuracy" in metrics:
        print(f"Test accuracy at training time: {100 * metrics['test_accuracy']:.2f}%")
    report = classification_report(
        y, predicted, labels=range(nn.N_CLASSES), target_names=names, digits=4, zero_division=0
    )
    print(report)
    what = what.split(" (")[0]
    nn.plot_predictions(X, y, predicted[:32], figures["predictions"], what.split()[0], names)
    nn.plot_training_curves(history, figures["training_curves"])
    plot_confusion_matrix(y, predicted, figures["confusion_matrix"], what, names)
    plot_confident_mistakes(X, y, probs, figures["confident_mistakes"], names=names)
    plot_first_layer_weights(network, figures["first_layer_weights"])
    threshold = threshold_of(network)
    plot_calibration(probs, y, threshold, figures["calibration"])
    plot_mistake_heat_maps(network, X, y, probs, figures["mistake_heat_maps"], names)
    answered = probs.max(axis=1) >= threshold
    print(
        f"Not sure below {threshold:.4f}: answers {100 * answered.mean():.1f}% of the {what}, "
        f"{100 * (predicted == y)[answered].mean():.2f}% of them right"
    )
    print(
        f"Figures saved to {nn.display_path(args.figures_dir)}/: "
        + ", ".join(f"{name}.png" for name in figures)
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
            if layer.activation == "identity"
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
    n = sum(p.size for p in network.parameters())
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


# --- Draw a digit in your browser: a page and a small HTTP API -----------------------------
# python src/use_network.py draw serves src/draw/ on 127.0.0.1, with Python's standard library.
#
# GET /, /draw.js, /draw.css   the page (HEAD too); any other path: 404.
# POST /predict                body: an image file's bytes (PNG, JPEG, GIF, BMP, TIFF, WebP,
#                              PNM), sent as they are, with a Content-Length header:
#     curl --data-binary @my_digit.png http://127.0.0.1:8000/predict
# 200 OK, JSON:
#     digit          int 0-9, or null when there is no digit or the network is not sure
#     answer         the text the page shows: "7", "not sure (best guess 7, 41%)", "no digit"
#     best_guess     int 0-9, the most probable digit (null when there is no digit)
#     confidence     float, its probability (0.0 when there is no digit)
#     probabilities  10 floats summing to 1 (null when there is no digit)
#     image          784 floats in [0, 1]: the 28x28 image the network saw, row by row
#     saliency       784 floats: d(logit of best_guess) / d(pixel) (null when no digit)
#     hidden         one list of ReLU activations per hidden layer (null when no digit)
# Errors are JSON too, {"error": "..."}, and the server goes on serving: 400 empty body, bad
# Content-Length, not an image or unreadable; 404 other paths; 405 wrong method; 408 a body
# that stalls past 10 s; 411 no Content-Length; 413 a body over 2 MB (refused from its
# header) or an image over 4 megapixels (refused before decoding).

PAGE_DIR = Path(__file__).resolve().parent / "draw"
# The only files served: URL path -> (file in PAGE_DIR, Content-Type). User input is never
# joined to a path, so nothing outside these three files can be reached.
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/draw.js": ("draw.js", "text/javascript; charset=utf-8"),
    "/draw.css": ("draw.css", "text/css; charset=utf-8"),
}
MAX_BODY_BYTES = 2 * 1024 * 1024  # a 280x280 canvas PNG is 5-20 kB
DRAW_MAX_PIXELS = 4_000_000  # a canvas is 0.08 Mpx; photos go through predict
DRAW_FORMATS = ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM"]  # Pillow's names
# The page may load only its own files (and its empty data: icon), and not be framed.
CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
REQUEST_TIMEOUT = 10.0  # seconds a client may stall before its connection is dropped


class RequestError(Exception):
    """A request we refuse: an HTTP status and a message for the client."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def answer_image(network: nn.NeuralNetwork, threshold: float, body: bytes) -> dict:
    """Image bytes -> the JSON-ready answer of POST /predict."""
    from PIL import Image

    try:  # a network endpoint decodes only the usual formats, and small images
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=DRAW_FORMATS) as image:
                size = f"{image.width}x{image.height}"  # from the header: nothing decoded yet
                pixels = image.width * image.height
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        size, pixels = "too many", float("inf")
    except Exception:  # noqa: BLE001 (whatever Pillow raises, it is not an image we take)
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "not an image (expected PNG, JPEG, GIF, BMP, TIFF, WebP or PNM)"
        ) from None
    if pixels > DRAW_MAX_PIXELS:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"image of {size} pixels; at most {DRAW_MAX_PIXELS:,} are accepted",
        )
    try:
        image = preprocess_image(body)
    except nn.InputError as error:
        raise RequestError(HTTPStatus.BAD_REQUEST, str(error)) from None
    if image is None:
        return {
            "digit": None,
            "answer": "no digit",
            "best_guess": None,
            "confidence": 0.0,
            "probabilities": None,
            "image": [0.0] * nn.N_PIXELS,
            "saliency": None,
            "hidden": None,
        }
    x = image[np.newaxis].astype(network.dtype)  # (1, 784)
    probs = nn.softmax(network.forward(x))[0]  # (10,)
    hidden = [layer.output[0].tolist() for layer in network.layers[:-1]]  # kept by forward
    digit, answer = verdict(probs, threshold)
    best = int(np.argmax(probs))
    saliency = input_gradient(network, x, best)
    return {
        "digit": digit,
        "answer": answer,
        "best_guess": best,
        "confidence": float(probs[best]),
        "probabilities": probs.tolist(),
        "image": image.tolist(),
        "saliency": saliency.tolist(),
        "hidden": hidden,
    }


class DrawServer(ThreadingHTTPServer):
    """A threaded HTTP server that holds the network, its threshold and the page's files."""

    def __init__(
        self,
        address: tuple[str, int],
        network: nn.NeuralNetwork,
        threshold: float,
        request_timeout: float,
    ) -> None:
        super().__init__(address, DrawHandler)
        self.network, self.threshold, self.request_timeout = network, threshold, request_timeout
        # The layers keep each forward pass's arrays for the backward pass, so two requests
        # must not run the network at the same time.
        self.network_lock = threading.Lock()
        self.files = {
            url: ((PAGE_DIR / name).read_bytes(), content_type)
            for url, (name, content_type) in PAGE_FILES.items()
        }

    def handle_error(self, request, client_address) -> None:
        """One line, not a traceback, for a client that hung up or stalled."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            print(f"{client_address[0]}: connection dropped ({error!r})", file=sys.stderr)
        else:
            super().handle_error(request, client_address)


class DrawHandler(BaseHTTPRequestHandler):
    server: DrawServer
    server_version = "draw_server"
    sys_version = ""  # no Python version in the Server header

    def setup(self) -> None:
        self.timeout = self.server.request_timeout  # socket timeout for every read and write
        super().setup()

    # -- responses ----------------------------------------------------------------

    def send_body(
        self, status: int, content_type: str, body: bytes, extra_headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, data: dict, extra_headers: dict | None = None) -> None:
        body = json.dumps(data, allow_nan=False).encode()
        self.send_body(status, "application/json", body, extra_headers)

    def send_error(
        self,
        code: int,
        message: str | None = None,
        explain: str | None = None,
        extra_headers: dict | None = None,
    ) -> None:
        """Every error as JSON; http.server calls this too, e.g. for a malformed request line."""
        self.log_error("%d %s", code, message or "")
        self.close_connection = True
        headers = {"Connection": "close", **(extra_headers or {})}
        self.send_json(code, {"error": message or HTTPStatus(code).phrase}, headers)

    # -- methods --------------------------------------------------------------------

    def do_GET(self) -> None:
        if self.path == "/predict":
            self.refuse_method()
        elif self.path in self.server.files:
            body, content_type = self.server.files[self.path]
            self.send_body(
                HTTPStatus.OK,
                content_type,
                body,
                {"Content-Security-Policy": CONTENT_SECURITY_POLICY},
            )
        else:
            self.send_error(HTTPStatus.NOT_FOUND, "no such page")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        if self.path != "/predict":
            self.refuse_method()
            return
        try:
            body = self.read_body()
            with self.server.network_lock:
                answer = answer_image(self.server.network, self.server.threshold, body)
        except RequestError as error:
            self.send_error(error.status, str(error))
        except TimeoutError:
            self.send_error(HTTPStatus.REQUEST_TIMEOUT, "the request body did not arrive in time")
        except Exception as error:  # noqa: BLE001 (a bug: no details to the client, only the log)
            self.log_error("internal error on /predict: %r", error)
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        else:
            self.send_json(HTTPStatus.OK, answer)

    def refuse_method(self) -> None:
        """405 on a known path, 404 on any other."""
        if self.path == "/predict":
            allowed = "POST"
        elif self.path in self.server.files:
            allowed = "GET, HEAD"
        else:
            self.send_error(HTTPStatus.NOT_FOUND, "no such page")
            return
        self.send_error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{self.command} not allowed here; use {allowed}",
            extra_headers={"Allow": allowed},
        )

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse_method

    def read_body(self) -> bytes:
        """The request body, after its declared length has been checked."""
        if "Transfer-Encoding" in self.headers:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not chunks")
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "missing Content-Length")
        if len(set(lengths)) > 1 or not re.fullmatch(r"[0-9]+", lengths[0].strip()):
            raise RequestError(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
        length = int(lengths[0].strip()[:20])  # 20 digits are already far over the cap
        if length > MAX_BODY_BYTES:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"body of {length:,} bytes; at most {MAX_BODY_BYTES:,} are accepted",
            )
        if length == 0:
            raise RequestError(HTTPStatus.BAD_REQUEST, "empty body: send an image file")
        body = self.rfile.read(length)  # a client that stalls here times out (TimeoutError)
        if len(body) < length:
            raise RequestError(HTTPStatus.BAD_REQUEST, "body shorter than its Content-Length")
        return body


def make_server(
    network: nn.NeuralNetwork,
    threshold: float,
    host: str = "127.0.0.1",
    port: int = 8000,
    request_timeout: float = REQUEST_TIMEOUT,
) -> DrawServer:
    """A server bound to (host, port), not yet serving: call serve_forever(). Port 0 picks a
    free port; server.server_address tells which."""
    return DrawServer((host, port), network, threshold, request_timeout)


def open_browser(url: str) -> None:
    """Open the page in a browser if there is one with a screen; never fails."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return  # no screen: webbrowser would start a text browser in this terminal
    with contextlib.suppress(Exception):  # a browser that fails is no reason to stop serving
        webbrowser.open(url)


def serve(
    network: nn.NeuralNetwork,
    threshold: float,
    host: str = "127.0.0.1",
    port: int = 8000,
    browser: bool = True,
) -> int:
    """Serve until Ctrl-C; the first line printed is the page's URL. Returns exit status 0."""
    with make_server(network, threshold, host, port) as server:
        url = f"http://{host}:{server.server_address[1]}/"
        print(url, flush=True)
        print("Draw a digit there; Ctrl-C stops the server.", flush=True)
        if browser:
            open_browser(url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("\nstopped", flush=True)
    return 0


def draw_command(args: argparse.Namespace) -> int:
    network = load_digit_model(args.model)
    require_digit_classes(network, args.model, "the drawing page")
    threshold = threshold_of(network) if args.threshold is None else args.threshold
    try:
        return serve(network, threshold, args.host, args.port, browser=not args.no_browser)
    except OSError as error:  # e.g. the port is taken
        raise nn.InputError(
            f"cannot serve on {args.host}:{args.port}: {error.strerror}; try another --port"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="use_network.py",
        formatter_class=formatter,
        description="Use a network trained by python src/NN_Numpy.py: read your own digits, "
        "draw one in your browser, write a Kaggle submission, draw a report, check and explain "
        "the math.",
    )
    commands = parser.add_subparsers(dest="command", title="commands", required=True)

    def command(name: str, help: str, description: str, model=nn.MODEL_PATH):
        sub = commands.add_parser(
            name, formatter_class=formatter, help=help, description=description
        )
        sub.add_argument("--model", type=Path, default=model, help="trained model (.npz)")
        return sub

    predict = command(
        "predict",
        "read your own images of digits",
        "Classify image files "
        "(PNG, JPEG, ...) of single handwritten digits; say 'not sure' or 'no digit' "
        "when the network cannot tell.",
    )
    predict.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="one digit each")
    add = predict.add_argument
    add(
        "--save-preprocessed",
        type=Path,
        metavar="DIR",
        help="also write the 28x28 image the network saw, as DIR/<name>-<hash>.28x28.png",
    )
    add(
        "--explain",
        type=Path,
        metavar="DIR",
        help="also draw, per image, what the network saw, "
        "the pixels behind its answer and the probabilities, as DIR/<name>-<hash>.why.png",
    )
    draw = command(
        "draw",
        "draw a digit in your browser",
        "Draw a digit in your browser and watch the network read it: serves "
        "a page on this computer and prints its address.",
    )
    add = draw.add_argument
    add("--port", type=int, default=8000, help="port (0: any free one)")
    add("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this computer only)")
    add(
        "--threshold",
        type=float,
        help="'not sure' below this top probability; None: the model's own, set on its "
        "validation rows",
    )
    add("--no-browser", action="store_true", help="do not open a browser")
    submit = command(
        "submit",
        "write a Kaggle submission for test.csv",
        "Predict every row of Kaggle's test.csv and write ImageId,Label.",
    )
    submit.add_argument("--test", type=Path, help="test CSV; None: data/raw/ or the bundled one")
    submit.add_argument("--out", type=Path, default=SUBMISSION_PATH, help="the submission CSV")
    for sub in (predict, submit):
        sub.add_argument("--tta", action="store_true", help="average over 5 one-pixel moves")
    report = command(
        "report",
        "the run record and every figure of a trained model",
        "Print the run record saved in the model and draw every figure on its validation split.",
    )
    report.add_argument("--figures-dir", type=Path, default=nn.FIGURES_DIR, help="figures folder")
    gradcheck = command(
        "gradcheck",
        "check backpropagation against finite differences",
        "Check backpropagation against finite differences: every "
        "parameter array's gradient, in float64, on real images.",
        model=None,
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
        sub.add_argument("--data-dir", type=Path, help="folder with train.csv[.gz]")
    return parser


COMMANDS = {
    "predict": predict_command,
    "draw": draw_command,
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
