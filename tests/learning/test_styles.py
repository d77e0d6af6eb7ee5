"""Issue #28: digits drawn in the styles MNIST's writers rarely use. Each style's shape is pinned
(a closed-top 4 encloses a hole over its bar, an open one does not; a crossed 7 has a bar across
its stem...), on many random hands, and the images are framed as MNIST frames a digit."""

import numpy as np
import pytest
from scipy import ndimage

import NN_Numpy as nn
from learning import styles

HANDS = 30  # random hands per style: every one of them must have the style's shape


def drawn(style: str, seed=0) -> list[np.ndarray]:
    """HANDS images of one style, (28, 28) each, and their ink above half strength."""
    rng = np.random.default_rng(seed)
    return [styles.draw(style, rng).reshape(28, 28) for _ in range(HANDS)]


def holes(image: np.ndarray) -> list[np.ndarray]:
    """The regions of background the ink encloses (not reached from the border), as masks."""
    paper = image < 0.5  # ink at half strength or more is ink
    regions, n = ndimage.label(paper)
    border = set(regions[0]) | set(regions[-1]) | set(regions[:, 0]) | set(regions[:, -1])
    return [regions == k for k in range(1, n + 1) if k not in border and (regions == k).sum() >= 2]


def box(image: np.ndarray) -> tuple[int, int, int, int]:
    """top, bottom, left, right (inclusive) of the ink above 0.3."""
    rows, cols = np.nonzero(image > 0.3)
    return rows.min(), rows.max(), cols.min(), cols.max()


def centre_row(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[0].mean())


def test_the_same_seed_gives_the_same_digits_each_style_in_turn_with_its_label():
    images, labels = styles.make(33, np.random.default_rng(5))
    again, _ = styles.make(33, np.random.default_rng(5))
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, styles.make(33, np.random.default_rng(6))[0])
    assert labels.tolist() == [digit for digit, _ in styles.STYLES.values()] * 3
    assert images.shape == (33, 784) and images.dtype == np.float32


@pytest.mark.parametrize("style", styles.STYLES)
def test_every_style_is_framed_as_mnist_frames_a_digit(style):
    """Strongest ink 1, longer side at most 20 pixels, centre of mass at the frame's centre."""
    ys, xs = np.indices((28, 28))
    for image in drawn(style):
        assert image.min() >= 0 and np.isclose(image.max(), 1)
        rows, cols = np.nonzero(image > 0)
        assert rows.max() - rows.min() < 21 and cols.max() - cols.min() < 21
        mass = image.sum()
        centre = ((ys * image).sum() / mass, (xs * image).sum() / mass)
        assert np.allclose(centre, 13.5, atol=0.75)


def runs(row: np.ndarray) -> int:
    """How many separate runs of ink a row of a mask holds."""
    return int(np.count_nonzero(np.diff(np.concatenate([[0], row.astype(int), [0]])) == 1))


def above_the_bar(image: np.ndarray) -> np.ndarray:
    """The rows of a 4 between its top and its bar (the widest row), as a mask with the spaces
    the ink encloses filled in: a closed top is then solid across, an open one two strokes."""
    ink = image > 0.3
    top = np.nonzero(ink.any(axis=1))[0].min()
    bar = int(np.argmax(ink.sum(axis=1)))
    filled = ndimage.binary_fill_holes(ink)
    return filled[top + (bar - top) // 3 : top + 2 * (bar - top) // 3 + 1]


def test_a_4_closed_at_the_top_has_ink_across_its_top_an_open_one_two_strokes():
    for image in drawn("4 closed at the top"):
        assert all(runs(row) == 1 for row in above_the_bar(image))
    for image in drawn("4 open at the top"):
        assert any(runs(row) == 2 for row in above_the_bar(image))


def test_a_1_with_a_flag_has_ink_left_of_its_stem_at_the_top_a_plain_one_is_a_bar():
    for image in drawn("1 with a flag"):
        top, bottom, left, right = box(image)
        stem = np.median(np.nonzero(image[(top + bottom) // 2] > 0.3)[0])  # the stem, half way
        upper = image[top : top + (bottom - top) // 2] > 0.3
        assert np.nonzero(upper.any(axis=0))[0].min() <= stem - 3  # the flag
    for image in drawn("1 plain"):
        top, bottom, left, right = box(image)
        widths = [np.ptp(np.nonzero(row > 0.3)[0]) for row in image[top : bottom + 1]]
        assert max(widths) <= 5 and not holes(image)  # one bar, nothing beside it


def middle_width(image: np.ndarray) -> int:
    """The widest run of ink in the middle fifth of the digit's rows, in pixels."""
    top, bottom, _, _ = box(image)
    middle = image[top + 2 * (bottom - top) // 5 : top + 3 * (bottom - top) // 5 + 1] > 0.3
    return max(np.ptp(np.nonzero(row)[0]) + 1 for row in middle if row.any())


def test_a_crossed_7_has_a_bar_across_its_stem_a_plain_one_only_the_stem():
    assert min(middle_width(image) for image in drawn("7 crossed")) >= 7
    assert max(middle_width(image) for image in drawn("7 plain")) <= 5


def test_a_hooked_7_comes_down_at_the_left_end_of_its_top_further_than_a_plain_one():
    def left_drop(image):  # how far down the top half's ink goes in its leftmost 3 columns
        top, bottom, left, _ = box(image)
        upper = image[: (top + bottom) // 2, left : left + 3] > 0.3
        return (np.nonzero(upper.any(axis=1))[0].max() - top) / (bottom - top)

    assert min(left_drop(image) for image in drawn("7 with a hooked top")) >= 0.15
    assert np.median([left_drop(image) for image in drawn("7 plain")]) <= 0.13


def test_a_2_with_a_loop_encloses_a_hole_in_its_bottom_half_under_a_pen_up_to_6_pixels():
    """(A thicker marker fills the small loop in, as it does on paper.)"""
    rng = np.random.default_rng(0)
    for pen in np.linspace(3.5, 6, HANDS):  # of 64: up to 2.6 pixels once framed
        image = styles.draw("2 with a loop", rng, pen).reshape(28, 28)
        top, bottom, _, _ = box(image)
        assert any(centre_row(h) > (top + bottom) / 2 for h in holes(image))


def tail_from_head(image: np.ndarray) -> float:
    """How far right of the 9's head (the hole in its top half) its tail's leftmost ink is, in
    the lowest quarter of the digit: negative for a tail curving back to the left."""
    top, bottom, _, _ = box(image)
    heads = [h for h in holes(image) if centre_row(h) < (top + bottom) / 2]
    assert heads, "a 9 encloses a hole in its top half"
    lowest = image[bottom - (bottom - top) // 4 : bottom + 1] > 0.3
    return np.nonzero(lowest.any(axis=0))[0].min() - np.nonzero(heads[0])[1].mean()


def test_a_9_has_a_head_and_a_curved_tail_ends_left_of_it_a_straight_one_below_it():
    assert max(tail_from_head(image) for image in drawn("9 with a curved tail")) < -2.5
    assert min(tail_from_head(image) for image in drawn("9 with a straight tail")) > -2


def test_a_5s_floating_bar_is_apart_from_the_rest_of_the_digit():
    for image in drawn("5 with a floating bar"):
        parts, n = ndimage.label(image > 0.3, structure=np.ones((3, 3)))
        assert n == 2, "the bar and the rest: two separate strokes"
        sizes = ndimage.sum(np.ones_like(image), parts, [1, 2])
        bar = 1 + int(np.argmin(sizes))  # the bar is the smaller part, and on top
        assert centre_row(parts == bar) < centre_row(parts == 3 - bar)


@pytest.mark.parametrize("bad", ["-0.1", "1.5", "x"])
def test_a_bad_styles_share_is_refused_in_one_line_naming_the_option(bad, capsys):
    with pytest.raises(SystemExit) as stopped:
        nn.main(["--styles", bad, "--epochs", "1", "--no-plots"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("NN_Numpy.py: error: ") and "--styles" in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_styles_join_the_training_mix_labelled_with_their_digit_and_none_by_default():
    """A share of the rows: --styles 0.1 on 200 rows adds 20 styled digits, which the network
    trains on as their digit; the default adds none, and trains as before."""
    seen = []

    class Watcher(nn.TrainingHook):
        def train_started(self, network, X_train, y_train, X_val, y_val):
            seen.append((X_train, y_train))

    rng = np.random.default_rng(0)
    X, y = rng.random((200, 784)).astype(np.float32), np.arange(200) % 10
    for share in (0.0, 0.1):
        config = nn.TrainConfig(epochs=1, styles=share, negatives=0, seed=1)
        nn.train(nn.NeuralNetwork(seed=1), X, y, config=config, hook=Watcher())
    (plain_X, plain_y), (mixed_X, mixed_y) = seen
    assert len(plain_y) == 200 and len(mixed_y) == 220
    np.testing.assert_array_equal(mixed_X[:200], X)
    expected = styles.make(20, np.random.default_rng(1))
    np.testing.assert_array_equal(mixed_X[200:], expected[0])
    np.testing.assert_array_equal(mixed_y[200:], expected[1])
