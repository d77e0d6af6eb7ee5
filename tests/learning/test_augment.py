"""src/learning/augment.py: affine and elastic warps, bilinear sampling, prefetching."""

import threading

import numpy as np
import pytest
from conftest import images

import NN_Numpy as nn
from learning import augment

IDENTITY = [1, 0, 15.5, 0, 1, 15.5]  # x_src = x + 15.5, y_src = y + 15.5: the framed image's centre


NONE = dict(shift=0, affine=0.0, elastic=0.0)


def warp(images, affine, rows=None):
    """Warp images (N, 784) by one affine map [a, b, c, d, e, f], no elastic part."""
    rows = np.arange(len(images)) if rows is None else rows
    affine = np.tile(np.array(affine, np.float32), (len(rows), 1))
    weights = np.zeros((len(rows), 16), np.float32)
    fields = np.ones((16, 2, 784), np.float32)
    return augment.distort(images[rows], affine, weights, fields)


def draws(n, config, seed=0):
    """The affine maps and elastic mixes of n images, as batches() draws them."""
    rng = np.random.default_rng(seed)
    return augment.random_affine(n, config, rng), *augment.random_elastic(n, config, rng)


def test_the_identity_returns_every_image_exactly():
    X = images()
    np.testing.assert_array_equal(warp(X, IDENTITY), X)
    np.testing.assert_array_equal(warp(X, IDENTITY, rows=np.array([7, 3])), X[[7, 3]])
    np.testing.assert_array_equal(augment.distort(X, *draws(50, nn.TrainConfig(**NONE))), X)


def test_a_quarter_turn_moves_each_pixel_where_it_should():
    image = np.zeros((1, 784), np.float32)
    image[0, 5 * 28 + 20] = 1  # a dot at row 5, column 20
    a, d = np.cos(np.pi / 2), np.sin(np.pi / 2)  # [[a, -d], [d, a]]: a quarter turn
    turned = warp(image, [a, -d, 15.5, d, a, 15.5]).reshape(28, 28)
    # output (r, c) reads input (c, 27 - r): the dot goes to row 27 - 20 = 7, column 5
    assert turned[7, 5] == pytest.approx(1, abs=1e-5) and turned.sum() == pytest.approx(1, abs=1e-5)
    X = images(5)
    turned = warp(X, [a, -d, 15.5, d, a, 15.5]).reshape(5, 28, 28)
    np.testing.assert_allclose(turned, np.rot90(X.reshape(5, 28, 28), axes=(1, 2)), atol=1e-5)


def test_half_a_pixel_to_the_right_averages_neighbours_and_the_outside_is_zero():
    X = images(3)
    moved = warp(X, [1, 0, 15.0, 0, 1, 15.5]).reshape(3, 28, 28)  # read x - 0.5
    source = X.reshape(3, 28, 28)
    np.testing.assert_allclose(moved[:, :, 1:], (source[:, :, 1:] + source[:, :, :-1]) / 2, 1e-6)
    np.testing.assert_allclose(moved[:, :, 0], source[:, :, 0] / 2, 1e-6)  # half from the zeros
    assert not warp(X, [1, 0, 15.5 + 40, 0, 1, 15.5 - 100]).any()  # far outside: all zeros


def test_bilinear_mixes_the_four_named_corners():
    frames = np.zeros((1, 32, 32), np.float32)
    frames[0, 10, 20] = 1  # top left of the point below
    frames[0, 10, 21] = 2  # top right
    frames[0, 11, 20] = 3  # bottom left
    frames[0, 11, 21] = 4  # bottom right
    x_src = np.full((1, 784), 20.25, np.float32)  # a quarter of the way right
    y_src = np.full((1, 784), 10.5, np.float32)  # half way down
    upper, lower = 1 + 0.25 * (2 - 1), 3 + 0.25 * (4 - 3)
    np.testing.assert_allclose(
        augment.bilinear(frames, x_src, y_src), upper + 0.5 * (lower - upper)
    )


def test_distort_is_bilinear_at_the_source_points_to_the_last_bit(small_split):
    # distort() is the fast form (few calls, out=) of the readable bilinear(): the same numbers
    # (the training's numbers for a seed depend on it), whole batches and a last one of 1 or 37
    X = small_split[0][:128]
    affine, weights, fields = draws(128, nn.TrainConfig())
    for rows in (slice(0, 128), slice(3, 4), slice(50, 87)):
        x_src, y_src = augment.source_points(affine[rows], weights[rows], fields)
        expected = augment.bilinear(augment.framed(X[rows]), x_src, y_src)
        fast = augment.distort(X[rows], affine[rows], weights[rows], fields)
        np.testing.assert_array_equal(fast, expected)


def test_whole_pixel_shifts_alone_move_the_digit_with_zeros_filled_in():
    X = images(300) + 1  # no zeros of its own
    config = nn.TrainConfig(**{**NONE, "shift": 2})
    affine, weights, fields = draws(300, config, seed=1)
    moved = augment.distort(X, affine, weights, fields)
    tx, ty = (15.5 - affine[:, [2, 5]]).T.astype(int)  # the shifts it drew
    assert {(a, b) for a, b in zip(tx, ty)} == {(a, b) for a in range(-2, 3) for b in range(-2, 3)}
    for image, result, x, y in zip(X, moved, tx, ty):
        expected = np.zeros((28, 28), np.float32)
        source = image.reshape(28, 28)
        expected[max(y, 0) : 28 + min(y, 0), max(x, 0) : 28 + min(x, 0)] = source[
            max(-y, 0) : 28 + min(-y, 0), max(-x, 0) : 28 + min(-x, 0)
        ]
        np.testing.assert_array_equal(result.reshape(28, 28), expected)


def test_the_elastic_displacement_is_bounded_and_smooth():
    config = nn.TrainConfig(**{**NONE, "elastic": 1.5})
    affine, weights, fields = draws(2000, config)
    identity = augment.source_points(affine, np.zeros_like(weights), fields)
    moved = augment.source_points(affine, weights, fields)
    d = np.stack([moved[0] - identity[0], moved[1] - identity[1]], axis=1)  # (2000, 2, 784)
    d = d.reshape(2000, 2, 28, 28)  # (dx, dy) at every pixel
    length = np.sqrt((d**2).sum(axis=1))  # (2000, 28, 28)
    rms = np.sqrt((length**2).mean(axis=(1, 2)))  # per image: strength uniform in [0, 1.5]
    assert 0.6 < rms.mean() < 0.9 and rms.max() < 3 and length.max() < 8, (rms.mean(), rms.max())
    step = np.diff(d, axis=3)  # how much more a pixel moves than its left neighbour
    assert np.sqrt((step**2).mean()) < 0.25 * np.sqrt((d**2).mean())  # they move together
    _, off, _ = draws(100, nn.TrainConfig(**NONE))
    assert not off.any()  # elastic 0: no displacement at all


def test_everything_stays_float32():
    config = nn.TrainConfig()
    affine, weights, fields = draws(64, config)
    assert affine.dtype == weights.dtype == fields.dtype == np.float32
    X = images(64)
    assert augment.distort(X, affine, weights, fields).dtype == np.float32
    batches = list(augment.batches(X, nn.TrainConfig(batch_size=16), np.random.default_rng()))
    assert [len(rows) for rows, _ in batches] == [16] * 4
    assert all(x.dtype == np.float32 and x.shape == (16, 784) for _, x in batches)


def test_the_same_seed_gives_the_same_batches():
    X, config = images(300), nn.TrainConfig(batch_size=64)

    def epoch(seed):
        return list(augment.batches(X, config, np.random.default_rng(seed)))

    first, again, other = epoch(5), epoch(5), epoch(6)
    assert len(first) == 5 and sorted(np.concatenate([r for r, _ in first])) == list(range(300))
    for (rows, x), (rows_again, x_again) in zip(first, again):
        np.testing.assert_array_equal(rows, rows_again)
        np.testing.assert_array_equal(x, x_again)
    assert not np.array_equal(first[0][1], other[0][1])
    plain = augment.batches(X, nn.TrainConfig(batch_size=64, **NONE), np.random.default_rng(5))
    for rows, x in plain:
        np.testing.assert_array_equal(x, X[rows])  # no augmentation: the rows as they are


def test_the_prefetch_makes_at_most_a_few_batches_ahead(monkeypatch):
    made, handed_out = [], []
    real_distort = augment.distort

    def counting_distort(*args):
        made.append(threading.get_ident())
        return real_distort(*args)

    monkeypatch.setattr(augment, "distort", counting_distort)
    X = images(640)
    for rows, _ in augment.batches(X, nn.TrainConfig(batch_size=16), np.random.default_rng(0)):
        handed_out.append(rows)
        assert len(made) <= len(handed_out) + augment.AHEAD  # the batch in hand, AHEAD more
    assert len(made) == len(handed_out) == 40
    assert threading.get_ident() not in made  # distorted in the second thread


def test_no_distortion_means_no_frames_and_no_thread(monkeypatch):
    def fail(*args):
        raise AssertionError("built a framed copy with augmentation off")

    monkeypatch.setattr(augment, "framed", fail)
    monkeypatch.setattr(augment, "prefetched", fail)
    X = images(100)
    batches = list(
        augment.batches(X, nn.TrainConfig(batch_size=50, **NONE), np.random.default_rng())
    )
    assert len(batches) == 2


def test_training_with_the_second_thread_gives_bit_identical_weights(small_split):
    X_train, y_train = small_split[0][:1500], small_split[1][:1500]
    weights = []
    for _ in range(2):
        network = nn.NeuralNetwork(seed=3)
        nn.train(network, X_train, y_train, config=nn.TrainConfig(epochs=2, seed=3), log=print)
        weights.append([p.copy() for p in network.parameters()])
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)
