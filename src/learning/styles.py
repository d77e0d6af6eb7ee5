"""Digits in the styles MNIST's writers rarely use, drawn on the spot for training (issue #28).

MNIST's digits were written by American Census Bureau clerks and high-school students. People
elsewhere write some digits otherwise, every day: a network that never saw those styles reads
them wrong (domain shift), and the fix is data, not a bigger network. The styles drawn here:

- 4 closed at the top (the two strokes meet in a point: a triangle over the bar), and open;
- 1 with a flag (the European 1), sometimes with a foot, and the plain bar;
- 7 crossed in the middle, plain, and with a hooked top (a short tick down at its left end);
- 2 with a loop at the bottom;
- 9 with a straight tail, and with a tail curving left;
- 5 whose top bar floats, lifted off the downstroke.

Each style is a few pen strokes in a box one unit a side (x to the right, y down), drawn with a
random pen width, slant, width-to-height ratio, tilt and a shaky hand (every point jittered),
with round pen ends, on a 64 x 64 canvas, and framed as MNIST frames a digit, by the function
that frames photos (negatives.to_mnist_frame: longer side 20 pixels, centre of mass at the
centre of 28 x 28). make(n, rng) gives (n, 784) float32 images and their (n,) labels; the same
seed gives the same images. Pillow is imported inside the function that draws.
"""

from __future__ import annotations

import numpy as np

from learning.deskew import deskew
from learning.negatives import CANVAS, to_mnist_frame


def arc(cx, cy, rx, ry, start, end, n=16) -> list[tuple[float, float]]:
    """Points on an ellipse around (cx, cy), from angle `start` to `end` in degrees (0: to the
    right, 90: down, as y grows downwards)."""
    angles = np.radians(np.linspace(start, end, n))
    return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles)))


def four_closed(rng):
    apex = (rng.uniform(0.3, 0.75), 0.0)  # a wide triangle over the bar, or a narrow steep one
    bar = rng.uniform(0.55, 0.78)
    foot = (apex[0] + rng.uniform(-0.05, 0.05), rng.uniform(0.88, 1.0))
    return [[apex, (0.0, bar), (1.0, bar)], [apex, foot]]


def four_open(rng):
    bar, stem = rng.uniform(0.55, 0.68), rng.uniform(0.65, 0.8)  # the top stays open
    return [[(rng.uniform(0.0, 0.12), 0.0), (0.0, bar), (1.0, bar)], [(stem, 0.05), (stem, 1.0)]]


def one_flagged(rng):
    flag = (rng.uniform(-0.1, 0.05), rng.uniform(0.25, 0.4))
    strokes = [[flag, (0.6, 0.0), (0.6, 1.0)]]
    if rng.random() < 0.5:  # a foot
        strokes.append([(0.2, 1.0), (1.0, 1.0)])
    return strokes


def one_plain(rng):
    return [[(0.5, 0.0), (0.5, 1.0)]]


def seven_crossed(rng):
    top, foot = (1.0, 0.0), (rng.uniform(0.2, 0.4), 1.0)
    height = rng.uniform(0.45, 0.55)
    middle = top[0] + (foot[0] - top[0]) * height  # where the stem is at the bar's height
    return [[(0.0, 0.05), top, foot], [(middle - 0.35, height), (middle + 0.35, height)]]


def seven_plain(rng):
    return [[(0.0, rng.uniform(0.0, 0.08)), (1.0, 0.0), (rng.uniform(0.2, 0.45), 1.0)]]


def seven_hooked(rng):
    hook = rng.uniform(0.15, 0.28)
    return [[(0.0, hook), (0.05, 0.0), (1.0, 0.0), (rng.uniform(0.25, 0.45), 1.0)]]


def two_looped(rng):
    top = arc(0.5, 0.3, 0.45, 0.3, 190, 360, 12)  # the top arc, left to right
    r = rng.uniform(0.14, 0.17)  # small: a marker fills it in, as on paper
    centre = (0.05 + 1.6 * r, 0.97 - r)  # the loop, in the bottom left corner (1.6: round
    down = [(0.8, 0.55), (centre[0] + 1.2 * r, centre[1] - 0.7 * r)]  # once squeezed sideways)
    loop = arc(*centre, 1.6 * r, r, -40, -420, 24)  # up, left, down, round and across itself
    return [top + down + loop + [(1.0, rng.uniform(0.92, 1.0))]]


def nine_straight(rng):
    head = arc(0.5, 0.28, 0.45, 0.28, 0, 360, 24)
    return [head, [(0.95, 0.28), (rng.uniform(0.8, 0.95), 1.0)]]


def nine_curved(rng):
    head = arc(0.5, 0.28, 0.45, 0.28, 0, 360, 24)
    tail = [(0.95, 0.28), (0.93, 0.65)] + arc(0.5, 0.65, 0.43, 0.33, 0, 160, 12)
    return [head, tail]


def five_floating_bar(rng):
    lift = rng.uniform(0.25, 0.32)  # the gap between the bar and the downstroke: wider than a pen
    bar = [(rng.uniform(0.4, 0.5), 0.0), (1.0, rng.uniform(-0.05, 0.03))]
    belly = arc(0.5, 0.68, 0.45, 0.3, 215, 360 + 150, 20)  # from upper left round to lower left
    return [bar, [(0.2, lift), (0.14, 0.5)] + belly[1:]]


# name -> (the digit, how to draw it): the styles in turn, each as often as the others
STYLES = {
    "4 closed at the top": (4, four_closed),
    "4 open at the top": (4, four_open),
    "1 with a flag": (1, one_flagged),
    "1 plain": (1, one_plain),
    "7 crossed": (7, seven_crossed),
    "7 plain": (7, seven_plain),
    "7 with a hooked top": (7, seven_hooked),
    "2 with a loop": (2, two_looped),
    "9 with a straight tail": (9, nine_straight),
    "9 with a curved tail": (9, nine_curved),
    "5 with a floating bar": (5, five_floating_bar),
}


def draw(style: str, rng: np.random.Generator, pen: float | None = None) -> np.ndarray:
    """One digit in one style, drawn by a random hand and framed: (784,) float32. pen: the
    pen's width in pixels of the 64 x 64 canvas (None: a random one, 3.5-9, 1.5-4 pixels once
    framed)."""
    from PIL import Image, ImageDraw, ImageFilter

    digit, strokes = STYLES[style]
    strokes = strokes(rng)
    height = 46.0
    ratio = 0.45 if digit == 1 else rng.uniform(0.5, 0.95)  # width / height (a 1 is narrow)
    slant = rng.uniform(-0.1, 0.3)  # x moves by slant * (its height above the middle)
    tilt = np.radians(rng.uniform(-5, 5))
    cos, sin = np.cos(tilt), np.sin(tilt)
    pen = float(rng.uniform(3.5, 9.0)) if pen is None else pen
    shake = 0.02 * height
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    paper = ImageDraw.Draw(canvas)
    for stroke in strokes:
        x, y = np.array(stroke, dtype=float).T  # unit box, y down
        x = (x - 0.5) * ratio * height + slant * (0.5 - y) * height
        y = (y - 0.5) * height
        x, y = cos * x - sin * y, sin * x + cos * y  # turned a little
        x += CANVAS / 2 + rng.normal(0, shake, len(x))
        y += CANVAS / 2 + rng.normal(0, shake, len(y))
        points = list(zip(x, y))
        paper.line(points, fill=255, width=round(pen), joint="curve")
        for px, py in (points[0], points[-1]):  # round pen ends
            paper.ellipse((px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2), fill=255)
    canvas = canvas.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
    return to_mnist_frame(np.asarray(canvas, dtype=np.float32) / 255)


def make(n: int, rng: np.random.Generator, deskewed=False) -> tuple[np.ndarray, np.ndarray]:
    """n digits, the styles in turn: images (n, 784) float32 in [0, 1], labels (n,) int;
    deskewed (--deskew), each straightened by its slant as the MNIST digits are (deskew.py)."""
    names = list(STYLES)
    images = np.zeros((n, 784), np.float32)
    labels = np.zeros(n, np.int64)
    for i in range(n):
        style = names[i % len(names)]
        images[i] = draw(style, rng)
        labels[i] = STYLES[style][0]
    return (deskew(images) if deskewed else images), labels
