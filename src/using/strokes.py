"""Strokes drawn thinner or thicker, for the report's robustness curves (src/using/robustness.py).

MNIST's digits were written with one kind of pen; people photograph pencil, ballpoint and
marker, and the thick numerals of a map. vary_thickness() makes strokes thinner (grey erosion:
each pixel becomes the darkest of itself and its 4 neighbours) or thicker (grey dilation: the
brightest of them), by a fraction of that one-pixel step. As a training augmentation (issue #20)
it did not pay: real handwriting no better read, more non-digits answered with a digit.
"""

from __future__ import annotations

import numpy as np


def neighbours(images: np.ndarray) -> np.ndarray:
    """(B, 28, 28) -> (4, B, 28, 28): the pixel above, below, left and right (0 outside)."""
    padded = np.pad(images, [(0, 0), (1, 1), (1, 1)])  # (B, 30, 30)
    return np.stack(
        [padded[:, :-2, 1:-1], padded[:, 2:, 1:-1], padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]]
    )


def vary_thickness(images: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """images (B, 784) in [0, 1], amounts (B,) in [-1, 1]: -1 one pixel thinner, 0 unchanged,
    1 one pixel thicker, in between a blend of the image and its eroded or dilated copy."""
    squares = images.reshape(-1, 28, 28)  # (B, 784) -> (B, 28, 28)
    around = neighbours(squares)  # (4, B, 28, 28)
    thicker = np.maximum(squares, around.max(axis=0))  # (B, 28, 28): grey dilation
    thinner = np.minimum(squares, around.min(axis=0))  # (B, 28, 28): grey erosion
    target = np.where(amounts[:, None, None] > 0, thicker, thinner)  # (B, 28, 28)
    blend = np.abs(amounts)[:, None, None].astype(images.dtype)  # (B, 1, 1)
    return (squares + blend * (target - squares)).reshape(images.shape)  # (B, 784)
