"""Deskewing: each image straightened by its second moments, before the network sees it.

A digit written with a slant is, to a first approximation, an upright digit sheared sideways:
each row moved right in proportion to its height. The slant is read off the image's ink as a
weighted regression of x on y,

    alpha = cov(x, y) / var(y)        (the ink's second moments, each pixel weighted by its ink)

and undone by shifting each row back: the output pixel (x, y) reads the input at
(x + alpha * (y - y_mean), y), y_mean the ink's centre of mass, which stays where it was.
An upright digit has alpha = 0 and is left as it is. (LeCun et al. 1998 list deskewing among
MNIST's preprocessings; it is an option here, --deskew, measured in references/measurements.md.)

Shapes: N images, 784 = 28 * 28 pixels.
"""

from __future__ import annotations

import numpy as np

from learning.augment import FRAME, bilinear, framed

ROW, COLUMN = np.indices((28, 28)).reshape(2, 784).astype(np.float32)  # (784,) each
MAX_SLANT = 1.0  # |alpha| at most 1 (45 degrees): a bar lying almost flat is not a slant
CHUNK = 4096  # images at a time: bounded memory for any N


def slants(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 784) -> alpha (N,), the slant, and y_mean (N,), the ink's centre row. A blank
    image has alpha 0."""
    mass = np.maximum(images.sum(axis=1), 1e-6)  # (N,)
    y_mean = images @ ROW / mass  # (N, 784) @ (784,) -> (N,)
    x_mean = images @ COLUMN / mass
    var_y = images @ (ROW * ROW) / mass - y_mean**2  # (N,)
    cov_xy = images @ (ROW * COLUMN) / mass - x_mean * y_mean  # (N,)
    alpha = np.where(var_y > 1e-3, cov_xy / np.maximum(var_y, 1e-3), 0)
    return np.clip(alpha, -MAX_SLANT, MAX_SLANT).astype(np.float32), y_mean.astype(np.float32)


def deskew(images: np.ndarray) -> np.ndarray:
    """(N, 784) images in [0, 1] -> (N, 784) float32, each straightened (see the module)."""
    images = np.asarray(images, np.float32)
    out = np.empty_like(images)
    for start in range(0, len(images), CHUNK):
        chunk = images[start : start + CHUNK]  # (B, 784)
        alpha, y_mean = slants(chunk)  # (B,) each
        x_src = COLUMN + alpha[:, None] * (ROW - y_mean[:, None])  # (B, 784)
        y_src = np.broadcast_to(ROW, x_src.shape)
        # bilinear reads framed images (a border of zeros FRAME wide): points move by FRAME
        out[start : start + CHUNK] = bilinear(framed(chunk), x_src + FRAME, y_src + FRAME)
    return out
