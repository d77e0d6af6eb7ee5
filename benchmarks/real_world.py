"""Real handwriting and things that are not digits, read as `predict` reads a photo.

    .venv/bin/python src/NN_Numpy.py                  # train the default model first
    .venv/bin/python benchmarks/real_world.py         # then measure it here
    .venv/bin/python benchmarks/real_world.py --model a.npz b.npz    # several, side by side

Three measurements, every image read through `photos.preprocess_image`, as predict reads it:
1. The handwriting development set ../shared/data/handwriting_dev (200 photos of digits by
   other writers; see its README): the share of best guesses right, and the share answered
   with a digit (neither "not sure" nor "not a digit"), per source.
2. Things that are not digits, none of them in training (src/learning/negatives.py draws DejaVu
   letters and random scribbles, blobs and hatching): letters A-Z, a-z typed in the STIX and
   Computer Modern fonts; filled silhouettes (animals, a house, a tree, a car...) and pen doodles
   (star, heart, smiley, spiral, arrow, cloud, moon, flower...) from hand-written outlines. Each is
   rendered like a photo: uneven lit paper, sensor noise, camera blur, some JPEG, some light
   ink on dark, at 45-80% of the height and off-centre. The share answered with a digit.
3. The validation digits of the model's own split: accuracy, answered share and its precision.

With --failures PATH, also a figure of the handwriting the (first) model reads wrong, as the
network saw each one (28 x 28), with its answer: a learner sees which styles it never met.
"""

from __future__ import annotations

import argparse
import io
import string
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
import NN_Numpy as nn
from files import paths, run_record
from learning import plots
from using import digit_model, photos

# ../shared/data/handwriting_dev beside the main checkout, or beside a worktree's folder
DEV_SETS = [ROOT.parent / "shared" / "data" / "handwriting_dev"]
DEV_SETS += [ROOT.parent.parent / "shared" / "data" / "handwriting_dev"]
FONTS = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"
EVAL_FONTS = [
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
    "cmb10.ttf",
    "cmti10.ttf",
]
DIGIT_LIKE = set("OoIlSsZzBbgqG")  # letters a reader would take for a digit, reported apart

# Outlines on a 100 x 100 grid, written by hand; the silhouettes are filled, the doodles drawn.
SILHOUETTES = {
    "cat": [
        (20, 95),
        (20, 50),
        (25, 20),
        (35, 38),
        (55, 38),
        (65, 20),
        (70, 50),
        (72, 70),
        (90, 60),
        (95, 70),
        (75, 95),
    ],
    "fish": [
        (5, 50),
        (30, 30),
        (60, 28),
        (80, 45),
        (95, 30),
        (95, 70),
        (80, 55),
        (60, 72),
        (30, 70),
    ],
    "bird": [
        (10, 55),
        (30, 40),
        (45, 15),
        (55, 40),
        (75, 35),
        (90, 25),
        (80, 45),
        (95, 50),
        (70, 60),
        (45, 75),
        (25, 65),
    ],
    "house": [
        (15, 95),
        (15, 45),
        (50, 10),
        (85, 45),
        (85, 95),
        (60, 95),
        (60, 70),
        (40, 70),
        (40, 95),
    ],
    "tree": [
        (45, 95),
        (45, 70),
        (15, 70),
        (30, 50),
        (20, 50),
        (38, 28),
        (30, 28),
        (50, 5),
        (70, 28),
        (62, 28),
        (80, 50),
        (70, 50),
        (85, 70),
        (55, 70),
        (55, 95),
    ],
    "car": [
        (5, 75),
        (8, 55),
        (25, 50),
        (35, 32),
        (70, 32),
        (82, 50),
        (95, 55),
        (95, 75),
        (80, 75),
        (75, 85),
        (65, 75),
        (35, 75),
        (30, 85),
        (20, 75),
    ],
    "rabbit": [
        (30, 95),
        (25, 60),
        (35, 45),
        (30, 5),
        (40, 5),
        (45, 40),
        (50, 5),
        (58, 8),
        (52, 45),
        (70, 60),
        (80, 80),
        (75, 95),
    ],
    "cup": [(20, 20), (80, 20), (75, 85), (25, 85)],
    "boat": [(5, 60), (95, 60), (80, 85), (20, 85), (5, 60), (50, 60), (50, 5), (85, 55), (50, 55)],
    "hand": [
        (30, 95),
        (20, 55),
        (10, 40),
        (18, 36),
        (30, 50),
        (30, 10),
        (38, 10),
        (40, 45),
        (45, 5),
        (53, 5),
        (53, 45),
        (60, 10),
        (68, 12),
        (65, 48),
        (75, 22),
        (82, 25),
        (72, 70),
        (65, 95),
    ],
}


def star(rng):
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False) - np.pi / 2 + rng.normal(0, 0.05, 10)
    radii = np.where(np.arange(10) % 2, rng.uniform(16, 24), 45)
    return [list(zip(50 + radii * np.cos(angles), 50 + radii * np.sin(angles)))]


def heart(rng):
    t = np.linspace(0, 2 * np.pi, 60)
    x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t)
    return [list(zip(50 + 2.7 * x, 45 - 2.7 * y))]


def smiley(rng):
    t = np.linspace(0, 2 * np.pi, 50)
    mouth = np.linspace(0.2 * np.pi, 0.8 * np.pi, 20)
    return [
        list(zip(50 + 45 * np.cos(t), 50 + 45 * np.sin(t))),
        list(zip(50 + 25 * np.cos(mouth), 52 + 22 * np.sin(mouth))),
        [(36, 35), (36, 40)],
        [(64, 35), (64, 40)],
    ]


def spiral(rng):
    t = np.linspace(0, rng.uniform(4, 6) * np.pi, 120)
    r = 4 + 42 * t / t[-1]
    return [list(zip(50 + r * np.cos(t), 50 + r * np.sin(t)))]


def arrow(rng):
    return [[(5, 50), (95, 50)], [(70, 25), (95, 50), (70, 75)]]


def cloud(rng):
    t = np.linspace(0, 2 * np.pi, 200)
    r = 30 + 8 * np.abs(np.sin(3.5 * t))
    return [list(zip(50 + 1.4 * r * np.cos(t), 50 + 0.9 * r * np.sin(t)))]


def moon(rng):
    outer, inner = np.linspace(0.5 * np.pi, 1.5 * np.pi, 40), np.linspace(1.3, -1.3, 40)
    return [
        list(zip(55 + 45 * np.cos(outer), 50 + 45 * np.sin(outer)))
        + list(zip(30 + 35 * np.cos(inner + np.pi), 50 - 38 * np.sin(inner)))
    ]


def flower(rng):
    t = np.linspace(0, 2 * np.pi, 300)
    r = 20 + 25 * np.abs(np.cos(2.5 * t))
    return [list(zip(50 + r * np.cos(t), 50 + r * np.sin(t)))]


def lightning(rng):
    return [[(60, 5), (30, 55), (55, 50), (35, 95), (75, 40), (50, 45), (70, 5), (60, 5)]]


def sun(rng):
    t = np.linspace(0, 2 * np.pi, 40)
    rays = [
        [(50 + 28 * np.cos(a), 50 + 28 * np.sin(a)), (50 + 46 * np.cos(a), 50 + 46 * np.sin(a))]
        for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)
    ]
    return [list(zip(50 + 18 * np.cos(t), 50 + 18 * np.sin(t))), *rays]


def hashtag(rng):
    return [[(35, 5), (28, 95)], [(68, 5), (61, 95)], [(10, 35), (90, 35)], [(8, 68), (88, 68)]]


def zigzag(rng):
    n = int(rng.integers(5, 9))
    return [[(5 + 90 * k / (n - 1), 30 if k % 2 else 70) for k in range(n)]]


DOODLES = {
    f.__name__: f
    for f in (
        star,
        heart,
        smiley,
        spiral,
        arrow,
        cloud,
        moon,
        flower,
        lightning,
        sun,
        hashtag,
        zigzag,
    )
}


def shape_canvas(kind: str, name: str, rng) -> Image.Image:
    """White on black, 200 x 200: a filled silhouette or a pen doodle, jittered and rotated."""
    canvas = Image.new("L", (200, 200), 0)
    pen = ImageDraw.Draw(canvas)
    jitter = lambda points: [  # noqa: E731
        (100 + 1.6 * (x - 50) + rng.normal(0, 1.2), 100 + 1.6 * (y - 50) + rng.normal(0, 1.2))
        for x, y in points
    ]
    if kind == "silhouettes":
        pen.polygon(jitter(SILHOUETTES[name]), fill=255)
    else:
        width = int(rng.integers(5, 14))
        for line in DOODLES[name](rng):
            pen.line(jitter(line), fill=255, width=width, joint="curve")
    return canvas.rotate(rng.uniform(-10, 10), Image.Resampling.BILINEAR)


def letter_canvas(char: str, font_file: str) -> Image.Image:
    font = ImageFont.truetype(str(FONTS / font_file), size=140)
    canvas = Image.new("L", (200, 200), 0)
    left, top, right, bottom = font.getbbox(char)
    ImageDraw.Draw(canvas).text(
        (100 - (left + right) // 2, 100 - (top + bottom) // 2), char, fill=255, font=font
    )
    return canvas


def photograph(ink: Image.Image, rng) -> bytes:
    """White-on-black ink -> the bytes of a photo of it on paper (see the module's docstring)."""
    box = ink.getbbox()
    ink = ink.crop(box)
    height = int(rng.integers(80, 320))
    width = int(height * rng.uniform(1.0, 1.5))
    scale = rng.uniform(0.45, 0.8) * height / max(ink.size[1], ink.size[0] * height / width)
    size = (max(2, int(ink.size[0] * scale)), max(2, int(ink.size[1] * scale)))
    ink = np.asarray(ink.resize(size, Image.Resampling.LANCZOS), np.float32) / 255
    page_ink = np.zeros((height, width), np.float32)
    top = int(rng.integers(0, height - size[1] + 1))
    left = int(rng.integers(0, width - size[0] + 1))
    page_ink[top : top + size[1], left : left + size[0]] = np.clip(ink, 0, 1)
    light = np.linspace(rng.uniform(0.75, 0.95), rng.uniform(0.85, 1.0), width)[None, :]
    paper = light - rng.uniform(0, 0.08) * np.linspace(0, 1, height)[:, None]
    strength = rng.uniform(0.6, 0.9)
    gray = paper * (1 - strength * page_ink) + rng.normal(0, 0.02, (height, width))
    if rng.random() < 0.12:
        gray = 1 - gray  # light ink on a dark ground
    image = Image.fromarray(np.clip(gray * 255, 0, 255).astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 1.2))))
    if rng.random() < 0.4:
        cast = rng.uniform(0.85, 1.0, 3)
        image = Image.fromarray((np.asarray(image)[..., None] * cast).astype(np.uint8))
    out = io.BytesIO()
    if rng.random() < 0.35:
        image.convert("RGB").save(out, format="JPEG", quality=int(rng.integers(60, 91)))
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def read(photo: bytes) -> np.ndarray:
    seen = photos.preprocess_image(photo)
    return np.zeros(784, np.float32) if seen is None else seen


def non_digits(seed=1) -> dict[str, np.ndarray]:
    """The evaluation non-digits, read like photos: {kind: (N, 784)}."""
    rng = np.random.default_rng(seed)
    letters = [(c, f) for f in EVAL_FONTS for c in string.ascii_letters]
    kinds = {
        "letters (not digit-like)": [
            letter_canvas(c, f) for c, f in letters if c not in DIGIT_LIKE
        ],
        "letters shaped like digits (O, l, S, Z, B, g...)": [
            letter_canvas(c, f) for c, f in letters if c in DIGIT_LIKE
        ],
        "silhouettes (filled)": [
            shape_canvas("silhouettes", name, rng) for name in SILHOUETTES for _ in range(20)
        ],
        "doodles (pen outlines)": [
            shape_canvas("doodles", name, rng) for name in DOODLES for _ in range(20)
        ],
    }
    return {
        kind: np.array([read(photograph(c, rng)) for c in canvases])
        for kind, canvases in kinds.items()
    }


def dev_set(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = pd.read_csv(folder / "labels.csv")
    X = np.array([read((folder / f).read_bytes()) for f in labels["file"]])
    return X, labels["label"].to_numpy(), labels["kind"].to_numpy()


def answers(network: nn.NeuralNetwork, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which images get a digit for an answer, and which "not a digit", by the model's own rule
    (digit_model.verdict)."""
    limits = digit_model.threshold_of(network), digit_model.not_a_digit_threshold_of(network)
    verdicts = [digit_model.verdict(p, *limits) for p in probs]
    given = np.array([digit is not None for digit, _ in verdicts])
    return given, np.array([answer == "not a digit" for _, answer in verdicts])


def measure(network: nn.NeuralNetwork, dev, others, val, tta=False) -> dict[str, str]:
    rows = {}
    X, y, kind = dev
    probs = digit_model.predict_proba_tta(network, X, tta)
    right, (given, refused) = probs.argmax(axis=1) == y, answers(network, probs)
    for name, where in [("all", kind == kind), *[(k, kind == k) for k in np.unique(kind)]]:
        rows[f"dev {name}: right / answered ('not a digit')"] = (
            f"{100 * right[where].mean():.1f}% / {100 * given[where].mean():.1f}% "
            f"({100 * refused[where].mean():.1f}%)"
        )
    for name, images in others.items():
        given, refused = answers(network, digit_model.predict_proba_tta(network, images, tta))
        rows[f"{name} [{len(images)}]: answered ('not a digit')"] = (
            f"{100 * given.mean():.1f}% ({100 * refused.mean():.1f}%)"
        )
    X, y = val
    probs = network.predict_proba(X)
    right, (given, _) = probs.argmax(axis=1) == y, answers(network, probs)
    rows["MNIST val: accuracy"] = f"{100 * right.mean():.2f}%"
    rows["MNIST val: answered (precision)"] = (
        f"{100 * given.mean():.1f}% ({100 * right[given].mean():.2f}%)"
    )
    return rows


def plot_failures(network: nn.NeuralNetwork, dev, path: Path, name: str) -> int:
    """The development set's digits whose best guess is wrong (red) or that get no digit for an
    answer though the best guess is right (grey), each captioned with the truth and the answer;
    returns how many are drawn."""
    X, y, _ = dev
    probs = digit_model.predict_proba_tta(network, X, False)
    limits = digit_model.threshold_of(network), digit_model.not_a_digit_threshold_of(network)
    shown, captions, colors = [], [], []
    for image, label, p in zip(X, y, probs):
        digit, answer = digit_model.verdict(p, *limits)
        best = int(p.argmax())
        if best == label and digit is not None:
            continue
        said = answer if digit is not None else f"{answer.split(' (')[0]} ({best})"
        shown.append(image)
        captions.append(f"{label}: {said}")
        colors.append("red" if best != label else "grey")
    title = (
        f"{name}: the {len(shown)} of {len(y)} handwritten digits it reads wrong "
        "(truth: answer; red: a wrong digit, grey: right best guess, not answered)"
    )
    plots.plot_digit_grid(np.array(shown).reshape(-1, 784), captions, colors, title, path)
    return len(shown)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, nargs="+", default=[paths.MODEL_PATH])
    parser.add_argument("--dev-set", type=Path, default=next(filter(Path.exists, DEV_SETS), None))
    parser.add_argument("--tta", action="store_true", help="as predict --tta: 5 views averaged")
    parser.add_argument("--failures", type=Path, help="a PNG of the first model's mistakes")
    args = parser.parse_args()
    networks = [digit_model.load_digit_model(path, "real_world.py") for path in args.model]
    dev, others = dev_set(args.dev_set), non_digits()
    if args.failures:
        drawn = plot_failures(networks[0], dev, args.failures, paths.display_path(args.model[0]))
        print(f"{drawn} handwritten digits read wrong drawn in {args.failures}")
    table = []
    for network in networks:  # each on the validation rows of its own split (seed)
        config = nn.TrainConfig(
            seed=run_record.optional(network.record, "settings.seed", 0),
            val_fraction=run_record.optional(network.record, "settings.val_fraction", 0.2),
        )
        split = nn.load_split(None, config)
        table.append(measure(network, dev, others, (split["X_val"], split["y_val"]), args.tta))
    print("| measure | " + " | ".join(paths.display_path(p) for p in args.model) + " |")
    print("| --- |" + " --- |" * len(networks))
    for key in table[0]:
        print(f"| {key} | " + " | ".join(t[key] for t in table) + " |")


if __name__ == "__main__":
    main()
