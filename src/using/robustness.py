"""Two report figures for issue #20: what the network answers to digits and to non-digits,
and how its accuracy holds up as digits are rotated, blurred, noised, or drawn thinner/thicker.

    python src/use_network.py report       # draws these among the other figures (figures.py)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from files import outputs, run_record
from learning import negatives
from using.strokes import vary_thickness


def answers(probs: np.ndarray, labels: np.ndarray | None, not_sure: float, not_a_digit: float):
    """Shares of images answered right, answered wrong, "not sure", "not a digit" (for non-digits,
    labels None: every answer with a digit is wrong)."""
    top, best = probs.max(axis=1), probs.argmax(axis=1)  # (N,), (N,)
    refused = top < not_a_digit
    answered = ~refused & (top >= not_sure)
    right = answered & (best == labels) if labels is not None else np.zeros_like(answered)
    return [right.mean(), (answered & ~right).mean(), (~answered & ~refused).mean(), refused.mean()]


def plot_answers(network, X_val, y_val, seed: int, path: Path):
    """Stacked bars: validation digits against made-up non-digits never trained on (the same
    1,000 that training measured its record on: the random stream [seed, 1])."""
    import matplotlib.pyplot as plt

    not_sure = run_record.optional(network.record, "metrics.not_sure_threshold", 0.0)
    not_a_digit = run_record.optional(network.record, "metrics.not_a_digit_threshold", 0.0)
    others = negatives.make(1000, np.random.default_rng([seed, 1]))  # (1000, 784)
    groups = {
        f"validation digits ({len(y_val):,})": answers(
            network.predict_proba(X_val), y_val, not_sure, not_a_digit
        ),
        "made-up non-digits (1,000)": answers(
            network.predict_proba(others), None, not_sure, not_a_digit
        ),
    }
    fig, ax = plt.subplots(figsize=(9, 2.8))
    parts = ["digit, right", "digit, wrong", "not sure", "not a digit"]
    colors = ["tab:green", "tab:red", "tab:orange", "tab:gray"]
    for row, shares in enumerate(groups.values()):
        left = 0.0
        for share, part, color in zip(shares, parts, colors):
            ax.barh(row, 100 * share, left=left, color=color, label=part if row == 0 else None)
            if share >= 0.08:  # room for the label
                ax.text(left + 50 * share, row, f"{100 * share:.1f}%", ha="center", va="center")
            left += 100 * share
    ax.set_yticks(range(len(groups)), list(groups))
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="share of images (%)")
    ax.set_title(
        f"What the network answers (not sure below {not_sure:.3f}, not a digit below "
        f"{not_a_digit:.3f})"
    )
    ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.35), frameon=False)
    outputs.save_figure(fig, path)
    return fig


def transformed(X: np.ndarray, how: str, amount: float) -> np.ndarray:
    """Images (N, 784) rotated by amount degrees, blurred by a Gaussian of amount pixels,
    noised by amount standard deviations, or amount pixels thinner (< 0) or thicker."""
    if how == "noise":
        noise = np.random.default_rng(0).normal(0, amount, X.shape)
        return np.clip(X + noise, 0, 1).astype(X.dtype)
    if how == "thickness":  # whole steps of one pixel, then the fraction left
        for _ in range(int(abs(amount))):
            X = vary_thickness(X, np.full(len(X), np.sign(amount), X.dtype))
        return vary_thickness(X, np.full(len(X), amount - np.trunc(amount), X.dtype))
    if how == "blur":  # G @ image @ G.T: each row, then each column, by a Gaussian of amount px
        if amount == 0:
            return X
        distance = np.arange(28) - np.arange(28)[:, None]  # (28, 28)
        gauss = np.exp(-(distance**2) / (2 * amount**2))
        gauss /= gauss.sum(axis=1, keepdims=True)  # each output pixel a weighted mean
        blurred = gauss @ X.reshape(-1, 28, 28) @ gauss.T  # (28, 28) @ (N, 28, 28) @ (28, 28)
        return blurred.reshape(X.shape).astype(X.dtype)
    from PIL import Image

    out = np.empty_like(X)
    for i, image in enumerate(X):  # rotated about the centre by Pillow
        picture = Image.fromarray(image.reshape(28, 28), mode="F")
        out[i] = np.asarray(picture.rotate(float(amount), Image.Resampling.BILINEAR)).ravel()
    return out


ROBUSTNESS = {  # how: (amounts, axis label)
    "rotation": (np.arange(-60, 61, 10), "rotated by (degrees)"),
    "blur": (np.linspace(0, 2.5, 6), "Gaussian blur (pixels)"),
    "noise": (np.linspace(0, 0.6, 7), "noise (standard deviation, ink = 1)"),
    "thickness": (np.linspace(-1, 2, 7), "strokes thinner (< 0) or thicker (pixels)"),
}


def plot_robustness(network, X: np.ndarray, y: np.ndarray, path: Path, n=1000):
    """Accuracy on n validation digits as they are rotated, blurred, noised, thinned/thickened."""
    import matplotlib.pyplot as plt

    X, y = X[:n], y[:n]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6), sharey=True)
    for ax, (how, (amounts, label)) in zip(axes, ROBUSTNESS.items()):
        accuracy = [100 * network.accuracy(transformed(X, how, a), y) for a in amounts]
        ax.plot(amounts, accuracy, marker="o")
        ax.set(title=how, xlabel=label, ylim=(0, 101))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"accuracy on {len(y):,} validation digits (%)")
    fig.suptitle("How accuracy holds up as validation digits change", y=1.02)
    outputs.save_figure(fig, path)
    return fig
