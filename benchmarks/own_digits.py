"""How well the trained model reads digits that are not MNIST rows: pages, fonts, pen strokes.

    .venv/bin/python src/NN_Numpy.py                 # train the default model first
    .venv/bin/python benchmarks/own_digits.py        # then measure it on made-up images

Every image is written to a temporary folder as a real PNG or JPEG file and read back
through `preprocess_image`, exactly as `python src/use_network.py predict` does. Kinds:
- MNIST validation digits (never trained on) drawn small and off-centre on big pages:
  dark ink on light RGB paper saved as JPEG, light ink on dark, an uneven grey
  background, strokes on a transparent RGBA canvas, 16-bit greyscale;
- digits typed in the DejaVu fonts that matplotlib ships (sans, serif, mono; regular,
  bold, oblique), black on white, at random sizes and positions;
- digits drawn with a pen: strokes (lines and arcs) with random jitter and thickness.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
import NN_Numpy as nn
from files import paths
from using import photos

FONTS = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"


def on_page(digit: np.ndarray, kind: str, rng: np.random.Generator) -> Image.Image:
    """An MNIST digit (28x28 uint8, white on black) drawn at a random size and place on a page."""
    size = int(rng.integers(50, 220))
    width, height = 800, 600
    at = (int(rng.integers(0, width - size)), int(rng.integers(0, height - size)))
    mask = Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)
    if kind == "dark ink on light paper, JPEG":
        page = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(200, 250, 3)))
        page.paste(Image.new("RGB", (size, size), (20, 20, 40)), at, mask)
    elif kind == "light ink on dark, PNG":
        page = Image.new("L", (width, height), 30)
        page.paste(Image.new("L", (size, size), 225), at, mask)
    elif kind == "uneven grey background":
        page = Image.fromarray(np.tile(np.linspace(140, 250, width), (height, 1)).astype(np.uint8))
        page.paste(Image.new("L", (size, size), 35), at, mask)
    elif kind == "transparent RGBA canvas":
        page = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        page.paste(Image.new("RGBA", (size, size), (10, 10, 200, 255)), at, mask)
    else:  # 16-bit greyscale: dark ink on light paper, 0-65535
        page = Image.new("L", (width, height), 230)
        page.paste(Image.new("L", (size, size), 20), at, mask)
        page = Image.fromarray(np.asarray(page).astype(np.uint16) * 257)
    return page


def typed(digit: int, font_file: Path, rng: np.random.Generator) -> Image.Image:
    page = Image.new("L", (400, 300), 255)
    font = ImageFont.truetype(str(font_file), size=int(rng.integers(60, 180)))
    left, top, right, bottom = font.getbbox(str(digit))
    at = (
        int(rng.integers(0, 400 - right)) - left,
        int(rng.integers(0, 300 - bottom)) - top,
    )  # wholly on the page
    ImageDraw.Draw(page).text(at, str(digit), fill=0, font=font)
    return page


# Pen strokes for each digit on a 100 x 100 grid: ("line", points) or ("arc", box, start, end).
STROKES = {
    0: [("arc", (25, 10, 75, 90), 0, 360)],
    1: [("line", [(40, 25), (55, 10), (55, 90)])],
    2: [("arc", (25, 10, 75, 55), 180, 30), ("line", [(72, 45), (25, 90), (78, 90)])],
    3: [("arc", (28, 10, 72, 50), 200, 90), ("arc", (25, 50, 75, 90), 270, 160)],
    4: [("line", [(60, 90), (60, 10), (20, 65), (80, 65)])],
    5: [("line", [(72, 10), (32, 10), (28, 45)]), ("arc", (25, 38, 75, 90), 220, 150)],
    6: [("arc", (25, 45, 75, 90), 0, 360), ("arc", (25, 10, 95, 110), 180, 270)],
    7: [("line", [(25, 12), (75, 12), (42, 90)])],
    8: [("arc", (30, 10, 70, 50), 0, 360), ("arc", (25, 50, 75, 90), 0, 360)],
    9: [("arc", (25, 10, 75, 50), 0, 360), ("line", [(75, 30), (68, 90)])],
}


def drawn(digit: int, rng: np.random.Generator) -> Image.Image:
    scale = rng.uniform(1.5, 3.5)
    page = Image.new("RGB", (500, 400), (245, 243, 235))
    pen = ImageDraw.Draw(page)
    ox, oy = rng.uniform(0, 500 - 100 * scale), rng.uniform(0, 400 - 100 * scale)
    width = int(scale * rng.uniform(4, 9))
    place = lambda x, y: (ox + scale * (x + rng.normal(0, 2)), oy + scale * (y + rng.normal(0, 2)))  # noqa: E731
    for stroke in STROKES[digit]:
        if stroke[0] == "line":
            pen.line([place(*p) for p in stroke[1]], fill=(20, 20, 60), width=width, joint="curve")
        else:
            (x0, y0), (x1, y1) = place(*stroke[1][:2]), place(*stroke[1][2:])
            pen.arc(
                (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)),
                stroke[2],
                stroke[3],
                fill=(20, 20, 60),
                width=width,
            )
    return page


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=paths.MODEL_PATH)
    parser.add_argument("--per-kind", type=int, default=200, help="MNIST digits per page kind")
    args = parser.parse_args()
    network = nn.NeuralNetwork.load(args.model)
    rng = np.random.default_rng(0)
    data = nn.load_split(None, nn.TrainConfig())  # the default run's validation rows
    val_pixels = np.round(data["X_val"] * 255).astype(np.uint8)
    val_labels = data["y_val"]
    accuracy = 100 * network.accuracy(data["X_val"], val_labels)
    shown = paths.display_path(args.model)
    print(f"model {shown}: {accuracy:.2f}% on the validation rows as they are")

    results = []
    with tempfile.TemporaryDirectory() as folder:

        def measure(kind: str, images: list[tuple[Image.Image, int]], fmt: str = "PNG") -> None:
            X, y = [], []
            for k, (image, label) in enumerate(images):
                path = Path(folder) / f"{k}.{fmt.lower()}"
                (image.convert("RGB") if fmt == "JPEG" else image).save(
                    path, format=fmt, quality=70
                )
                X.append(photos.preprocess_image(path))
                y.append(label)
            accuracy = (network.predict(np.array(X)) == np.array(y)).mean()
            results.append((kind, len(y), accuracy))
            print(f"| {kind} | {len(y)} | {100 * accuracy:.1f}% |", flush=True)

        print("| images | count | accuracy |\n| --- | --- | --- |")
        for kind, fmt in [
            ("dark ink on light paper, JPEG", "JPEG"),
            ("light ink on dark, PNG", "PNG"),
            ("uneven grey background", "PNG"),
            ("transparent RGBA canvas", "PNG"),
            ("16-bit greyscale", "PNG"),
        ]:
            rows = rng.choice(len(val_labels), size=args.per_kind, replace=False)
            measure(
                f"MNIST digits on a page: {kind}",
                [
                    (on_page(val_pixels[i].reshape(28, 28), kind, rng), int(val_labels[i]))
                    for i in rows
                ],
                fmt,
            )
        fonts = [
            f for f in sorted(FONTS.glob("DejaVu*.ttf")) if "Display" not in f.name
        ]  # Display fonts have no digits
        measure(
            f"typed in {len(fonts)} DejaVu fonts",
            [(typed(d, f, rng), d) for f in fonts for d in range(10)],
        )
        measure(
            "pen strokes with jitter",
            [(drawn(d, rng), d) for _ in range(10) for d in range(10)],
            "JPEG",
        )


if __name__ == "__main__":
    main()
