"""How often is the network sure of things that are not digits? Before and after "not sure".

    .venv/bin/python src/NN_Numpy.py                  # train the default model first
    .venv/bin/python benchmarks/not_digits.py         # then show it letters, scribbles, shapes

Every image is written as a PNG and read back through `photos.preprocess_image`,
exactly as `python src/use_network.py predict` and the drawing page read theirs. Kinds:
- letters A-Z and a-z typed in four STIX and Computer Modern fonts that matplotlib ships, dark
  on light, at random sizes and places (not DejaVu: training draws its non-digits from those,
  src/learning/negatives.py);
- scribbles: 2-5 random pen strokes;
- shapes: circles, squares, triangles, crosses and stars, outlined with a pen.
Before, the network answered every image with a digit (its top probability is all there is);
after, it says "not a digit" or "not sure" below the thresholds stored with the model. The table
gives the share of images still answered with a digit, and the same for real validation digits.
benchmarks/real_world.py measures more kinds, and real handwriting.
"""

from __future__ import annotations

import argparse
import string
import sys
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
import NN_Numpy as nn
from files import paths
from using import digit_model, photos

FONTS = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"
FONT_FILES = ["STIXGeneral.ttf", "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf"]


def letter(char: str, font_file: Path, rng: np.random.Generator) -> Image.Image:
    page = Image.new("L", (400, 300), 245)
    font = ImageFont.truetype(str(font_file), size=int(rng.integers(60, 180)))
    left, top, right, bottom = font.getbbox(char)
    at = (int(rng.integers(0, 400 - right)) - left, int(rng.integers(0, 300 - bottom)) - top)
    ImageDraw.Draw(page).text(at, char, fill=20, font=font)
    return page


def scribble(rng: np.random.Generator) -> Image.Image:
    page = Image.new("L", (280, 280), 255)
    pen = ImageDraw.Draw(page)
    for _ in range(rng.integers(2, 6)):
        points = [tuple(p) for p in rng.uniform(30, 250, size=(int(rng.integers(2, 6)), 2))]
        pen.line(points, fill=0, width=int(rng.integers(8, 20)), joint="curve")
    return page


def shape(kind: str, rng: np.random.Generator) -> Image.Image:
    page = Image.new("L", (280, 280), 255)
    pen, width = ImageDraw.Draw(page), int(rng.integers(8, 18))
    cx, cy, r = *rng.uniform(110, 170, 2), rng.uniform(50, 100)
    if kind == "circle":
        pen.ellipse((cx - r, cy - r, cx + r, cy + r), outline=0, width=width)
    elif kind == "square":
        pen.rectangle((cx - r, cy - r, cx + r, cy + r), outline=0, width=width)
    elif kind == "cross":
        pen.line([(cx - r, cy - r), (cx + r, cy + r)], fill=0, width=width)
        pen.line([(cx - r, cy + r), (cx + r, cy - r)], fill=0, width=width)
    else:  # triangle or star: a polygon with 3 or 10 corners
        corners = 3 if kind == "triangle" else 10
        angles = np.linspace(0, 2 * np.pi, corners, endpoint=False) + rng.uniform(0, np.pi)
        radii = r * (np.where(np.arange(corners) % 2, 0.45, 1) if kind == "star" else 1)
        points = list(zip(cx + radii * np.cos(angles), cy + radii * np.sin(angles)))
        pen.line([*points, points[0]], fill=0, width=width, joint="curve")
    return page


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=paths.MODEL_PATH)
    args = parser.parse_args()
    network = digit_model.load_model(args.model)
    threshold = digit_model.threshold_of(network)
    not_a_digit = digit_model.not_a_digit_threshold_of(network)
    rng = np.random.default_rng(0)
    kinds = {
        "letters A-Z, a-z in 4 STIX and Computer Modern fonts": [
            letter(char, FONTS / font, rng) for font in FONT_FILES for char in string.ascii_letters
        ],
        "scribbles (2-5 random strokes)": [scribble(rng) for _ in range(200)],
        "shapes (circle, square, triangle, cross, star)": [
            shape(kind, rng)
            for kind in ["circle", "square", "triangle", "cross", "star"]
            for _ in range(40)
        ],
    }
    print(
        f"model {paths.display_path(args.model)}, not-sure threshold {threshold:.4f}, "
        f"not a digit below {not_a_digit:.4f}"
    )
    print(
        "| images | count | answered with a digit, before | after | 'not a digit' "
        "| mean top probability |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for kind, images in kinds.items():
            X = []
            for k, image in enumerate(images):
                image.save(Path(folder) / f"{k}.png")
                seen = photos.preprocess_image(Path(folder) / f"{k}.png")
                X.append(np.zeros(784, np.float32) if seen is None else seen)
            top = network.predict_proba(np.array(X)).max(axis=1)
            print(
                f"| {kind} | {len(X)} | 100% | {100 * (top >= threshold).mean():.1f}% "
                f"| {100 * (top < not_a_digit).mean():.1f}% | {top.mean():.2f} |"
            )
    data = nn.load_split(None, nn.TrainConfig())  # the default run's validation digits
    top = network.predict_proba(data["X_val"]).max(axis=1)
    print(
        f"| validation digits (for comparison) | {len(top):,} | 100% "
        f"| {100 * (top >= threshold).mean():.1f}% | {100 * (top < not_a_digit).mean():.1f}% "
        f"| {top.mean():.2f} |"
    )


if __name__ == "__main__":
    main()
