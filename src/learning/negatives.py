"""Images that are not digits, made up on the spot, for training the network to say so.

A network trained on digits only has no way to say "this is not a digit": its softmax always
sums to 1 over the 10 digits, and a letter or a doodle gets a confident digit. Outlier
exposure (Hendrycks, Mazeika and Dietterich, ICLR 2019) adds images of other things to the
training batches with the uniform distribution as their target (1/10 for every digit): the
network learns to spread its probability on what is not a digit, so a low top probability
means "not a digit" (see NN_Numpy.not_a_digit_threshold and digit_model.verdict).

make(n, rng) draws n such images, in the MNIST frame that photos.preprocess_image gives a
photo, by the same function, to_mnist_frame (white ink on black, longer side 20 pixels, centre
of mass at the centre): (n, 784) float32 in [0, 1]. Kinds, each chosen so that it cannot be a digit:
- letters typed in the DejaVu fonts matplotlib ships, leaving out the ones shaped like a digit
  (O o I l i j J S s Z z B b g q G D T) -- a circle is a 0 and a bar is a 1;
- scribbles: 3-6 pen strokes in random directions, crossing each other;
- blobs: filled shapes (a digit is written with a pen line, never filled in), solid or, as
  preprocess_image shows a large filled shape (its flat middle taken for paper), grey inside;
- hatching: rows of parallel lines, several of them (one line alone would be a 1);
- outlines: a closed curve with 4-9 bumps or spikes drawn with a pen (a plain oval is a 0,
  two bumps make an 8: never fewer than 4, each at least 0.3 of the radius deep);
- clutter: 4-8 small separate marks, dots, rings and dashes (a digit is one or two strokes).
Everything is drawn with Pillow on a 64 x 64 canvas and framed like a photo; the same seed
gives the same images. It imports only deskew.py of the project (--deskew straightens these as
well); Pillow and matplotlib are imported inside the functions that use them.
"""

from __future__ import annotations

import functools
import string
from pathlib import Path

import numpy as np

from learning.deskew import deskew

CANVAS = 64  # pixels a side: drawn this size, then framed down to 28 x 28
CENTRE = 13.5  # where to_mnist_frame puts the centre of mass, in pixels from the top left
KINDS = ("letters", "scribbles", "blobs", "hatching", "outlines", "clutter")
MIX = ("letters", "blobs", "scribbles", "outlines", "letters", "blobs", "hatching", "clutter")
DIGIT_LIKE_LETTERS = set("OoIlijJSsZzBbgqGDT")
LETTERS = [c for c in string.ascii_letters if c not in DIGIT_LIKE_LETTERS]


@functools.cache
def font_files() -> list[Path]:
    """The DejaVu fonts of matplotlib (training only: other fonts are left for evaluation)."""
    import matplotlib

    folder = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"
    return [f for f in sorted(folder.glob("DejaVu*.ttf")) if "Display" not in f.name]


def to_mnist_frame(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink -> (784,) float32 like an MNIST digit: cropped to the ink, its longer side
    scaled to 20 px, its centre of mass at the centre of the 28x28 frame. Photos are framed by
    it (photos.preprocess_image), and so are these made-up non-digits: the same frame for both."""
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
    # Centre of mass -> the frame's centre (CENTRE, CENTRE), rounded to whole pixels.
    ys, xs = np.indices(small.shape)
    total = small.sum()
    com_y, com_x = (ys * small).sum() / total, (xs * small).sum() / total
    top = int(np.clip(round(CENTRE - com_y), 0, 28 - small.shape[0]))
    left = int(np.clip(round(CENTRE - com_x), 0, 28 - small.shape[1]))
    frame = np.zeros((28, 28), np.float32)
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame.reshape(784)


def framed(canvas) -> np.ndarray:
    """A white-on-black 8-bit Pillow canvas -> (784,) in the MNIST frame."""
    return to_mnist_frame(np.asarray(canvas, dtype=np.float32) / 255)


@functools.cache
def glyph(char: str, font_file: Path) -> np.ndarray:
    """One letter in one font, framed: (784,). Typed once per run, as the training's warps
    turn, stretch and bend it anew every epoch."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_file), size=44)
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    left, top, right, bottom = font.getbbox(char)
    at = ((CANVAS - right - left) // 2, (CANVAS - bottom - top) // 2)
    ImageDraw.Draw(canvas).text(at, char, fill=255, font=font)
    return framed(canvas)


def letter(rng: np.random.Generator) -> np.ndarray:
    fonts = font_files()
    return glyph(LETTERS[rng.integers(len(LETTERS))], fonts[rng.integers(len(fonts))])


def scribble(rng: np.random.Generator):
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    pen = ImageDraw.Draw(canvas)
    width = int(rng.integers(3, 7))
    for _ in range(rng.integers(3, 7)):
        points = rng.uniform(4, CANVAS - 4, size=(int(rng.integers(2, 5)), 2))
        pen.line([tuple(p) for p in points], fill=255, width=width, joint="curve")
    return canvas


def blob(rng: np.random.Generator):
    from PIL import Image, ImageDraw, ImageFilter

    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    corners = int(rng.integers(4, 13))  # 4-12 corners all around, radii 10-28: never a bar
    angles = (np.arange(corners) + rng.uniform(-0.3, 0.3, corners)) * 2 * np.pi / corners
    radii = rng.uniform(10, 28, corners) * np.where(np.arange(corners) % 2, 1, 1.25) ** 0.5
    points = [(32 + r * np.cos(a), 32 + r * np.sin(a)) for r, a in zip(radii, angles)]
    inside = 255 if rng.random() < 0.5 else int(rng.integers(60, 200))
    ImageDraw.Draw(canvas).polygon(points, fill=inside, outline=255, width=int(rng.integers(2, 5)))
    return canvas.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 2))))


def hatching(rng: np.random.Generator):
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    pen = ImageDraw.Draw(canvas)
    angle, gap, width = rng.uniform(0, np.pi), rng.uniform(9, 14), int(rng.integers(3, 6))
    along = np.array([np.cos(angle), np.sin(angle)])
    across = np.array([-np.sin(angle), np.cos(angle)])
    for k in range(int(rng.integers(3, 6))):
        centre = 32 + (k - 2) * gap * across + rng.normal(0, 2, 2)
        half = rng.uniform(14, 26)
        pen.line([tuple(centre - half * along), tuple(centre + half * along)], 255, width)
    return canvas


def outline(rng: np.random.Generator):
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    bumps, depth = int(rng.integers(4, 10)), rng.uniform(0.3, 0.5)
    angles = np.linspace(0, 2 * np.pi, 8 * bumps + 1)  # 8 points per bump
    if rng.random() < 0.5:  # smooth bumps (a flower, a cloud)
        radii = 1 - depth * np.abs(np.cos(bumps * angles / 2))
    else:  # spikes (a star): in and out in straight lines
        radii = 1 - depth * np.abs(((bumps * angles / np.pi) % 2) - 1)
    radii *= 26 * rng.uniform(0.8, 1.1, len(angles)) ** 0.2  # a shaky hand
    stretch = rng.uniform(0.7, 1.0)
    points = [(32 + r * np.cos(a), 32 + stretch * r * np.sin(a)) for r, a in zip(radii, angles)]
    ImageDraw.Draw(canvas).line(points, fill=255, width=int(rng.integers(3, 6)), joint="curve")
    return canvas.rotate(rng.uniform(0, 360), Image.Resampling.BILINEAR)


def clutter(rng: np.random.Generator):
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    pen = ImageDraw.Draw(canvas)
    for x, y in rng.uniform(8, CANVAS - 8, size=(int(rng.integers(4, 9)), 2)):
        r, mark = rng.uniform(2, 6), rng.integers(3)
        if mark == 0:  # a dot
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
        elif mark == 1:  # a ring
            pen.ellipse((x - r - 1, y - r - 1, x + r + 1, y + r + 1), outline=255, width=2)
        else:  # a dash
            angle = rng.uniform(0, np.pi)
            dx, dy = 1.5 * r * np.cos(angle), 1.5 * r * np.sin(angle)
            pen.line([(x - dx, y - dy), (x + dx, y + dy)], fill=255, width=3)
    return canvas


def make(n: int, rng: np.random.Generator, kinds=MIX, deskewed=False) -> np.ndarray:
    """n non-digit images in the MNIST frame, kinds in turn (letters and blobs, the most varied,
    twice as often as the others): (n, 784) float32 in [0, 1]; deskewed (--deskew), each
    straightened by its slant as the digits are (deskew.py)."""
    drawings = {"scribbles": scribble, "blobs": blob, "hatching": hatching}
    drawings |= {"outlines": outline, "clutter": clutter}
    images = np.zeros((n, 784), np.float32)
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "letters":
            images[i] = letter(rng)
        else:
            images[i] = framed(drawings[kind](rng))  # drawn 64 x 64, white on black
    return deskew(images) if deskewed else images
