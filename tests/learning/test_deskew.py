"""Issue #28: moment-based deskewing (--deskew), on constructed images whose slant is known, and
in use: a model trained with --deskew straightens every image it reads."""

import numpy as np

import NN_Numpy as nn
from learning import deskew
from using import digit_model


def bar(slant: float, width=3) -> np.ndarray:
    """A vertical bar 20 pixels tall, each row moved right by slant * (its row - 13.5): (784,)."""
    image = np.zeros((28, 28), np.float32)
    for row in range(4, 24):
        centre = 13.5 + slant * (row - 13.5)
        columns = np.arange(28)
        image[row] = np.clip(width / 2 + 0.5 - np.abs(columns - centre), 0, 1)
    return image.reshape(784)


def columns_of_ink(image: np.ndarray) -> np.ndarray:
    """Each inked row's centre of ink, (rows,)."""
    square = image.reshape(28, 28)
    rows = square.sum(axis=1) > 0.5
    return (square[rows] * np.arange(28)).sum(axis=1) / square[rows].sum(axis=1)


def test_the_slant_of_a_sheared_bar_is_read_off_its_moments():
    for slant in (-0.4, -0.1, 0.0, 0.25, 0.5):
        alpha, y_mean = deskew.slants(bar(slant)[np.newaxis])
        assert np.isclose(alpha[0], slant, atol=0.02) and np.isclose(y_mean[0], 13.5)


def test_a_sheared_bar_is_straightened_and_stays_where_it_was():
    images = np.stack([bar(0.4), bar(-0.3)])
    straight = deskew.deskew(images)
    for before, after in zip(images, straight):
        centres = columns_of_ink(after)
        assert np.ptp(centres) < 0.5  # every row's ink in the same column: upright
        assert np.isclose(centres.mean(), columns_of_ink(before).mean(), atol=0.3)
        assert np.isclose(after.sum(), before.sum(), rtol=0.05)  # no ink lost
    assert np.abs(deskew.slants(straight)[0]).max() < 0.02


def test_an_upright_or_blank_image_is_left_as_it_is():
    upright = bar(0.0)
    np.testing.assert_allclose(deskew.deskew(upright[np.newaxis])[0], upright, atol=1e-5)
    assert not deskew.deskew(np.zeros((1, 784), np.float32)).any()


def test_any_number_of_images_in_chunks_gives_what_one_at_a_time_gives():
    rng = np.random.default_rng(0)
    images = np.stack([bar(s) for s in rng.uniform(-0.5, 0.5, 10)])
    one_by_one = np.concatenate([deskew.deskew(image[np.newaxis]) for image in images])
    saved, deskew.CHUNK = deskew.CHUNK, 3
    try:
        np.testing.assert_allclose(deskew.deskew(images), one_by_one, atol=1e-5)
    finally:
        deskew.CHUNK = saved


def test_a_model_trained_with_deskew_straightens_what_it_reads_and_others_do_not(tmp_path):
    """The record says --deskew: load_digit_model's network answers a slanted bar as it
    answers the bar straightened; a model trained without it reads the image as it is."""
    network = nn.NeuralNetwork(seed=0)
    slanted = bar(0.4)[np.newaxis]
    for deskewed in (True, False):
        network.record = {"settings": {"deskew": deskewed}}
        network.save(tmp_path / f"{deskewed}.npz")
        loaded = digit_model.load_digit_model(tmp_path / f"{deskewed}.npz", "predict")
        seen = deskew.deskew(slanted) if deskewed else slanted
        np.testing.assert_allclose(loaded.predict_proba(slanted), network.predict_proba(seen))


def test_training_with_deskew_straightens_the_digits_the_made_up_images_and_validation():
    seen = []

    class Watcher(nn.TrainingHook):
        def train_started(self, network, X_train, y_train, X_val, y_val):
            seen.append((X_train, X_val))

    config = nn.TrainConfig(epochs=1, limit=300, deskew=True, styles=0.1, seed=2)
    data = nn.load_split(None, config)
    plain = nn.load_split(None, nn.TrainConfig(limit=300, seed=2))
    np.testing.assert_allclose(data["X_val"], deskew.deskew(plain["X_val"]), atol=1e-6)
    X, y = data["X_train"], data["y_train"]
    nn.train(nn.NeuralNetwork(seed=2), X, y, data["X_val"], data["y_val"], config, hook=Watcher())
    ((X_train, _),) = seen
    assert len(X_train) > len(X)  # the styled digits and the non-digits joined the mix
    assert np.abs(deskew.slants(X_train)[0]).max() < 0.05  # and every image is upright
