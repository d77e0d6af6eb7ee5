"""Every figure of the report, and the report itself: the run record saved inside a model,
its scores, and the figures drawn on the same validation split it was trained beside.

    python src/use_network.py report       # report(): prints the record, saves the figures

matplotlib and scikit-learn are imported inside the functions that draw: they take a second
or two to load, and a command that draws nothing should not wait for them.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np

import NN_Numpy as nn
from files import class_names, outputs, paths, run_record
from learning import plots
from using import points_map, robustness
from using.digit_model import load_model, not_a_digit_threshold_of, threshold_of
from using.math_checks import input_gradient


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
    fig.suptitle(title, parse_math=False)  # a file name is text, even with two '$' in it
    outputs.save_figure(fig, path)
    plt.close(fig)


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
        display_labels=None if names is None else [class_names.literal_text(n) for n in names],
        ax=ax,
        cmap="Blues",
        xticks_rotation="horizontal" if names is None else 45,
    )
    right = 100 * (labels == predicted).mean()
    ax.set_title(f"Confusion matrix: {len(labels):,} {what}\n{right:.2f}% on the diagonal (right)")
    ax.set(xlabel=f"predicted {kind}", ylabel=f"true {kind}")
    outputs.save_figure(fig, path)
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
    return plots.plot_digit_grid(images[shown], captions, ["red"] * len(shown), title, path)


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
    outputs.save_figure(fig, path)
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
    outputs.save_figure(fig, path)
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
        axes[0, column].set_title(title, fontsize=8, color="red", parse_math=False)
        axes[1, column].imshow(saliency.reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, column].contour(images[i].reshape(28, 28), [0.5], colors="k", linewidths=0.6)
    for ax in axes.flat:
        ax.axis("off")
    title = "Most confident mistakes, and the pixels behind them (red: pushed towards the wrong"
    fig.suptitle(f"{title} answer; outline: the digit)", fontsize=9)
    fig.subplots_adjust(hspace=0.05)
    outputs.save_figure(fig, path)
    return fig


POINTS_CAPTION = (
    "Each dot is one of {n:,} validation {noun} (a fixed sample, every class its share), placed "
    "by what one layer makes of it; colour: its true class; black x: the network's answer is "
    "wrong. Left to right, the layers: in the pixels the classes are a tangle, layer after layer "
    "they pull apart. Top, PCA: the plane along which the dots spread most ({kept}); distances "
    "mean the same everywhere, but clusters apart in the layer may overlap on the plane. "
    "Bottom, t-SNE: keeps each dot's near neighbours near, so it separates what PCA overlaps; "
    "the distances between clusters, and their sizes, mean nothing."
)


def plot_points_map(network, images, labels, seed: int, path: Path, names=nn.DIGIT_NAMES):
    """The points map: a fixed sample of the images, placed by each layer's activations, in
    2-D by PCA (top row) and by t-SNE (bottom), one panel per layer, left to right."""
    import matplotlib.pyplot as plt

    literal = class_names.literal_text  # a class name is text, even with two "$" in it
    rows = points_map.map_sample(labels, seed=seed)
    labels = labels[rows]
    points = points_map.layer_points(network, images[rows])
    wrong = points["output"].argmax(axis=1) != labels  # the output: the logits
    maps = {"PCA": {}, "t-SNE": {}}
    kept = []
    for name, layer in points.items():
        projection = points_map.fit_pca(layer)
        maps["PCA"][name] = projection.place(layer)
        maps["t-SNE"][name] = points_map.project_tsne(layer, seed)
        kept.append(f"{name} {100 * projection.explained:.0f}%")
    colors = plt.get_cmap("tab10")(labels % 10)
    width = 4 * len(points) + 1.5  # inches
    figsize = (width, 9)
    fig, axes = plt.subplots(2, len(points), figsize=figsize, squeeze=False, layout="constrained")
    for row, (method, layer_maps) in zip(axes, maps.items()):
        for ax, (name, xy) in zip(row, layer_maps.items()):
            ax.scatter(xy[:, 0], xy[:, 1], s=8, c=colors, linewidths=0)
            ax.scatter(xy[wrong, 0], xy[wrong, 1], s=22, c="black", marker="x", linewidths=0.9)
            size = points[name].shape[1]
            ax.set_title(f"{method}: {name} ({size} numbers)", parse_math=False)
            ax.set(xticks=[], yticks=[])
    handles = [
        plt.Line2D(
            [], [], ls="", marker="o", color=plt.get_cmap("tab10")(k), label=literal(names[k])
        )
        for k in range(nn.N_CLASSES)
    ]
    handles.append(plt.Line2D([], [], ls="", marker="x", color="black", label="wrong answer"))
    fig.legend(handles=handles, loc="outside right center", title="true class", frameon=False)
    noun = "digits" if names == nn.DIGIT_NAMES else "images"
    what = f"{wrong.sum()} of the {len(labels):,} read wrong"
    fig.suptitle(f"What each layer makes of the {noun}: the points map ({what})", fontsize=14)
    caption = POINTS_CAPTION.format(n=len(labels), noun=noun, kept="it keeps " + ", ".join(kept))
    lines = textwrap.fill(caption, round(11 * width))  # about 11 characters an inch at 10 pt
    fig.supxlabel(lines, ha="left", x=0.0, fontsize=10, parse_math=False)
    outputs.save_figure(fig, path)
    return fig


DATA_KEYS = ("path", "sha256", "rows")  # the data file the model was trained on


def report(model: Path, figures_dir: Path) -> None:
    """The run record saved inside the model, and every figure, on the same validation split."""
    from sklearn.metrics import classification_report

    network = load_model(model)
    record = network.record
    # Rebuild the very validation split the model was scored on: every part of the record it
    # needs must be there (run_record.require says which is missing and how to get it); no guess.
    split_why = "to rebuild the validation split"
    split_settings = ("limit", "val_fraction", "train_on_all", "seed")
    config = nn.TrainConfig(
        **{key: run_record.require(record, f"settings.{key}", split_why) for key in split_settings}
    )
    data = {key: run_record.require(record, f"data.{key}", split_why) for key in DATA_KEYS}
    history = run_record.require(record, "history", "for the training curves")
    accuracy_then = run_record.require(record, "metrics.accuracy", "to compare with")
    names = run_record.optional(record, "data.classes", nn.DIGIT_NAMES)  # before issue #15: digits
    source = paths.PROJECT_ROOT / data["path"]  # relative to the project, or absolute
    created = run_record.optional(record, "created", "at an unknown time")
    command = " ".join(run_record.optional(record, "command", ["(command not recorded)"]))
    seconds = run_record.optional(record, "metrics.seconds", float("nan"))
    print(f"Model: {paths.display_path(model)}, trained {created} with: {command}")
    print(f"Data: {data['path']} (sha256 {data['sha256'][:16]}...), {data['rows']:,} rows")
    print(f"Classes: {', '.join(names)}")
    print(f"Training: {len(history)} epochs in {seconds:.1f}s")
    names_out = [
        "predictions",
        "training_curves",
        "confusion_matrix",
        "confident_mistakes",
        "first_layer_weights",
        "calibration",
        "mistake_heat_maps",
        "answers",  # issue #20: digits against made-up non-digits (src/using/robustness.py)
        "robustness",
        "points_map",  # issue #27: what each layer makes of the digits (src/using/points_map.py)
    ]
    figures = {name: figures_dir / f"{name}.png" for name in names_out}
    outputs.check_outputs(list(figures.values()), [model, source])
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
    settings = run_record.optional(record, "settings", {})
    print("Settings: " + ", ".join(f"{key}={value}" for key, value in settings.items()))
    probs = network.predict_proba(X)
    predicted = probs.argmax(axis=1)
    accuracy = 100 * (predicted == y).mean()
    print(
        f"Accuracy on {len(y):,} {what}: {accuracy:.2f}% "
        f"(at training time: {100 * accuracy_then:.2f}%)"
    )
    test_accuracy = run_record.optional(record, "metrics.test_accuracy", None)
    if test_accuracy is not None:
        print(f"Test accuracy at training time: {100 * test_accuracy:.2f}%")
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
    robustness.plot_answers(network, X, y, config.seed, figures["answers"])
    robustness.plot_robustness(network, X, y, figures["robustness"])
    plot_points_map(network, X, y, config.seed, figures["points_map"], names)
    answered = probs.max(axis=1) >= threshold
    if answered.any():
        right = f"{100 * (predicted == y)[answered].mean():.2f}% of them right"
    else:  # a barely trained network may be sure of none (the mean of nothing is NaN)
        right = "so none to score"
    print(
        f"Not sure below {threshold:.4f}: answers {100 * answered.mean():.1f}% of the {what}, "
        f"{right}"
    )
    refused = run_record.optional(record, "metrics.negatives_not_a_digit", None)
    if refused is not None:  # models trained since issue #20
        answered_others = run_record.optional(record, "metrics.negatives_answered", float("nan"))
        print(
            f"Not a digit below {not_a_digit_threshold_of(network):.4f}: of 1,000 made-up "
            f"non-digits, {100 * refused:.1f}% called 'not a digit', "
            f"{100 * answered_others:.1f}% answered with a digit"
        )
    print(
        f"Figures saved to {paths.display_path(figures_dir)}/: "
        + ", ".join(f"{name}.png" for name in figures)
    )
    plots.show_figures_if_possible()
