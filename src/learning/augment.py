"""Distorted copies of the training images, new every epoch, for NN_Numpy.train()'s batches.

A network that sees every digit only as written learns the pixels; one that sees each digit a
little moved, turned, stretched and bent every epoch learns the strokes (the README's
ablation: random shifts alone take validation accuracy from 97.6% to 98.7%). Each output
pixel (x, y), measured from the image's centre, reads the input image at the source point

    x_src = a*x + b*y + c + dx(x, y)
    y_src = d*x + e*y + f + dy(x, y)

a, b, d, e: a random turn, zoom and shear; c, f: the centre plus a random shift; dx, dy: a
smooth random displacement field (elastic). The source point falls between pixels: its value
is mixed from the four pixels around it (bilinear sampling). A second thread distorts the
next batch while the network trains on this one.

Shapes: N images in the epoch, B in a batch, K elastic fields, 784 = 28 * 28 pixels.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

DTYPE = np.float32
FRAME = 2  # zero pixels around each image: a source point off the digit reads 0
SIZE = 28 + 2 * FRAME  # 32: the framed image's width and height
CENTRE = 13.5 + FRAME  # 15.5: the middle of the 28 x 28 image, in framed coordinates
ROW, COLUMN = np.indices((28, 28)).reshape(2, 28 * 28)  # (784,) each: pixel k's row and column
X = (COLUMN - 13.5).astype(DTYPE)  # (784,): each pixel's x, measured from the image's centre
Y = (ROW - 13.5).astype(DTYPE)  # (784,): its y, downwards
XY1 = np.stack([X, Y, np.ones_like(X)])  # (3, 784): each pixel's x, its y, and a 1 for c and f


def augmenting(config) -> bool:
    """Is any distortion switched on (--shift, --affine, --elastic)?"""
    return bool(config.shift or config.affine or config.elastic)


def random_affine(n: int, config, rng) -> np.ndarray:
    """(n, 6): a, b, c, d, e, f of x_src = a*x + b*y + c, y_src = d*x + e*y + f, one row per
    image: turned up to 12 degrees, zoomed up to 10%, sheared up to 0.15 (each times
    config.affine) and shifted by up to config.shift whole pixels."""
    strength = config.affine * np.array([[np.pi / 15], [0.1], [0.15]])  # (3, 1)
    angle, zoom, shear = rng.uniform(-1, 1, (3, n)) * strength  # (n,) each
    shift_x, shift_y = rng.integers(-config.shift, config.shift + 1, (2, n))  # (n,) each
    # [[a, b], [d, e]] = (1 + zoom) * turn @ shear = [[cos, -sin], [sin, cos]] @ [[1, s], [0, 1]]
    cos = np.cos(angle) * (1 + zoom)
    sin = np.sin(angle) * (1 + zoom)
    a = cos
    b = cos * shear - sin
    d = sin
    e = sin * shear + cos
    c = CENTRE - shift_x  # moved right by shift_x: each pixel reads from its left
    f = CENTRE - shift_y
    return np.column_stack([a, b, c, d, e, f]).astype(DTYPE)


def random_elastic(n: int, config, rng, n_fields=16) -> tuple[np.ndarray, np.ndarray]:
    """Smooth displacements (dx, dy) for n images: K random fields, blurred so that
    neighbouring pixels move together, and for each image its own mix of them.
    Returns weights (n, K) and fields (K, 2, 784); image i moves by weights[i] @ fields, whose
    RMS length is uniform in [0, config.elastic] pixels."""
    weights = rng.standard_normal((n, n_fields)) * rng.uniform(0, config.elastic, (n, 1))
    noise = rng.standard_normal((n_fields, 2, 28, 28))  # white noise: every pixel its own way
    distance = np.arange(28) - np.arange(28)[:, None]  # (28, 28): pixel i - pixel j
    blur = np.exp(-(distance**2) / 50)  # (28, 28): a Gaussian of 5 pixels
    fields = blur @ noise @ blur.T  # (28, 28) @ (K, 2, 28, 28) @ (28, 28): blurred down, across
    fields = fields.reshape(n_fields, 2, 28 * 28)
    # scaled so that a mix with standard normal weights moves pixels by 1 pixel RMS
    fields /= np.sqrt(2 * n_fields * (fields**2).mean(axis=2, keepdims=True))
    return weights.astype(DTYPE), fields.astype(DTYPE)


def source_points(affine, weights, fields) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel reads its input: x_src, y_src (B, 784), in framed pixels."""
    # a*x + b*y + c*1 at every pixel is a row of affine times XY1: one matrix multiply does it
    # for the whole batch, 5x faster than the same sums written elementwise (measured)
    x_src = affine[:, 0:3] @ XY1  # (B, 3) @ (3, 784) -> (B, 784): a*x + b*y + c
    y_src = affine[:, 3:6] @ XY1  # d*x + e*y + f
    x_src += weights @ fields[:, 0]  # + dx: (B, K) @ (K, 784) -> (B, 784)
    y_src += weights @ fields[:, 1]  # + dy
    return x_src, y_src


def framed(images: np.ndarray) -> np.ndarray:
    """(B, 784) -> (B, 32, 32): each image in a frame of zeros, 2 pixels wide."""
    frames = np.zeros((len(images), SIZE, SIZE), images.dtype)
    frames[:, FRAME:-FRAME, FRAME:-FRAME] = images.reshape(-1, 28, 28)
    return frames


def bilinear(frames: np.ndarray, x_src: np.ndarray, y_src: np.ndarray) -> np.ndarray:
    """The framed images (B, 32, 32) read at the points (x_src, y_src) (B, 784): (B, 784).

    A point between pixels mixes the four around it, each by how near it is: first along x,
    in the row above and the row below, then along y between those two."""
    x_src = np.clip(x_src, 1, SIZE - 2)  # a point outside the image reads the frame's zeros
    y_src = np.clip(y_src, 1, SIZE - 2)
    left = np.floor(x_src)  # (B, 784): the column left of the point
    top = np.floor(y_src)  # the row above it
    right_of_left = x_src - left  # (B, 784), 0-1: how far right of that column the point is
    below_top = y_src - top
    # Each top-left neighbour's place in frames.ravel(); image b starts at b * 32 * 32.
    # Computed in float32 (whole numbers below 2**24: exact), then one conversion to integers
    image_start = np.arange(len(frames))[:, None] * SIZE * SIZE  # (B, 1)
    top_left = (top * SIZE + left).astype(np.intp) + image_start  # (B, 784)
    pixels = frames.ravel()
    # np.take(pixels, i) is pixels[i], about 1.5x faster for these (B, 784) gathers (measured)
    top_left_value = np.take(pixels, top_left)
    top_right_value = np.take(pixels, top_left + 1)  # one column right
    bottom_left_value = np.take(pixels, top_left + SIZE)  # one row down
    bottom_right_value = np.take(pixels, top_left + SIZE + 1)
    upper = top_left_value + right_of_left * (top_right_value - top_left_value)
    lower = bottom_left_value + right_of_left * (bottom_right_value - bottom_left_value)
    return upper + below_top * (lower - upper)  # (B, 784)


def distort(images: np.ndarray, affine, weights, fields) -> np.ndarray:
    """(B, 784) images -> (B, 784), each moved by its own affine map and elastic mix: the same
    numbers, to the last bit, as bilinear(framed(images), *source_points(...)), computed for
    speed (tests/learning/test_augment.py checks it).

    This runs in the second thread beside the training, and must take less of its core than
    the training takes of the other: then the distortions cost the epoch nothing. So x and y
    go through each step together, as one (B, 2, 784) array, in few calls on the whole batch
    (each NumPy call holds Python's interpreter lock a little, and the two threads take turns
    at it), results go into arrays already made (out=), and the four neighbours are read
    from the same indices in four shifted views of the pixels instead of four sums of
    indices. Measured: see references/measurements.md, "Speed and memory"."""
    n = len(images)
    # x_src, y_src of source_points() as rows 0 and 1: (B, 2, 3) @ (3, 784) -> (B, 2, 784)
    points = affine.reshape(n, 2, 3) @ XY1
    moves = weights @ fields.reshape(len(fields), 2 * 28 * 28)  # (B, K) @ (K, 1568): dx, dy
    points += moves.reshape(n, 2, 28 * 28)
    np.clip(points, 1, SIZE - 2, out=points)  # outside the image: the frame's zeros
    corner = np.floor(points)  # (B, 2, 784): left column and top row of the four neighbours
    fraction = np.subtract(points, corner, out=points)  # how far right of and below them
    # top_left = top * SIZE + left + image start, in float32 (whole numbers below 2**24:
    # exact); to int32 and then to intp is 2x faster than float32 to intp straight (measured)
    top_left = corner[:, 1]
    top_left *= SIZE
    top_left += corner[:, 0]
    top_left += (np.arange(n, dtype=DTYPE) * (SIZE * SIZE))[:, None]
    top_left = top_left.astype(np.int32).astype(np.intp)  # (B, 784)
    pixels = framed(images).ravel()
    # pixels[1:][i] is pixels[i + 1]: no index sums. mode="wrap" skips NumPy's range check
    # (every index is in range: a frame of zeros is all around) and is 1.2x faster (measured)
    top_left_value = np.take(pixels, top_left, mode="wrap")
    top_right_value = np.take(pixels[1:], top_left, mode="wrap")  # one column right
    bottom_left_value = np.take(pixels[SIZE:], top_left, mode="wrap")  # one row down
    bottom_right_value = np.take(pixels[SIZE + 1 :], top_left, mode="wrap")
    right_of_left = fraction[:, 0]
    below_top = fraction[:, 1]
    # upper = top_left + right_of_left * (top_right - top_left), into top_right's memory
    upper = np.subtract(top_right_value, top_left_value, out=top_right_value)
    upper *= right_of_left
    upper += top_left_value
    lower = np.subtract(bottom_right_value, bottom_left_value, out=bottom_right_value)
    lower *= right_of_left
    lower += bottom_left_value
    # upper + below_top * (lower - upper)
    lower -= upper
    lower *= below_top
    lower += upper
    return lower


def batches(X: np.ndarray, config, rng) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch: (rows (B,), images (B, 784)) per batch of config.batch_size, in a new random
    order, distorted anew if any distortion is on. Same seed, same batches."""
    order = rng.permutation(len(X))
    batch_rows = np.split(order, range(config.batch_size, len(X), config.batch_size))
    if not augmenting(config):
        for rows in batch_rows:
            yield rows, X[rows]
        return
    # Every random number is drawn here, in this thread and in this order: the worker thread
    # only computes, so a seed gives the same images whatever the threads' timing.
    affine = random_affine(len(X), config, rng)  # (N, 6)
    weights, fields = random_elastic(len(X), config, rng)  # (N, K), (K, 2, 784)

    def distorted(rows):
        return distort(X[rows], affine[rows], weights[rows], fields)

    yield from prefetched(distorted, batch_rows)


AHEAD = 3  # batches the worker may make ahead of the one handed out: 3 x 400 kB at most


def prefetched(distorted, batch_rows: list) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(rows, distorted(rows)) for each batch; a second thread computes the next batches while
    the caller trains on this one.

    At most AHEAD + 1 batches exist at once: the one handed out and AHEAD made or being made.
    More than one ahead lets the worker catch up after a moment without its core (the
    machine's other work) instead of making the training wait for it.

    BLAS is held to one thread for as long as this runs: its limit is process-wide, so it
    holds for the caller's matrix multiplies too. The two threads then use the two cores,
    one each; a BLAS pool of two in each would make four threads share two cores."""
    with ThreadPoolExecutor(max_workers=1) as worker, threadpool_limits(1, user_api="blas"):
        coming = deque(worker.submit(distorted, rows) for rows in batch_rows[:AHEAD])
        for i, rows in enumerate(batch_rows):
            images = coming.popleft().result()
            if i + AHEAD < len(batch_rows):
                coming.append(worker.submit(distorted, batch_rows[i + AHEAD]))
            yield rows, images
