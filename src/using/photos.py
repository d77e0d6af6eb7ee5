"""Your own digits: a photo or scan of one handwritten digit turned into an MNIST-like 28x28
image (preprocess_image), and read by the network (predict_photos).

    python src/use_network.py predict my_digit.jpg     # predict_photos

Pillow is imported inside the functions that use it (it is slow to load, and the notebook
and the math checks do not need it).
"""

from __future__ import annotations

import hashlib
import io
import sys
import warnings
from pathlib import Path

import numpy as np

import NN_Numpy as nn
from files import outputs
from files.errors import InputError
from learning.negatives import to_mnist_frame  # one frame for photos and training's non-digits
from using.digit_model import not_a_digit_threshold_of, predict_proba_tta, threshold_of, verdict
from using.figures import plot_explanation
from using.math_checks import input_gradient

# --- Your own digits: a photo or scan turned into an MNIST-like 28x28 image --------------
# MNIST digits are white ink on black, scaled so the longer side is 20 pixels
# (anti-aliased), and placed in a 28x28 frame with their centre of mass at the centre.
# preprocess_image() does the same to any image of one digit.

WORKING_SIZE = 256  # big photos are shrunk to this first: plenty for a digit, and fast
MAX_IMAGE_BYTES = 50 * 2**20  # a larger file is refused before it is read
MAX_PIXELS = 40_000_000  # refused from the header, before decoding (Pillow's own limit: 89 M)


def read_grayscale(source: Path | bytes, name: str = "image") -> np.ndarray:
    """An image file, or its bytes, in any mode Pillow reads (L, RGB, RGBA, P, 16-bit, float)
    -> (H, W) float32 luminance in [0, 1].

    Only regular files are opened (a pipe would block forever), and the size is checked
    from the header before any pixel is decoded. Transparent pixels are laid on a
    background that contrasts with the ink, so strokes on a transparent canvas survive.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, Path):
        name = str(source)
        if not source.exists():
            raise InputError(f"{source}: no such file")
        if not source.is_file():
            raise InputError(f"{source}: not a regular file (a folder, pipe or device)")
        if source.stat().st_size > MAX_IMAGE_BYTES:
            raise InputError(f"{source}: over {MAX_IMAGE_BYTES // 2**20} MB; not a photo")
        source = source.read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source))
        if image.width * image.height > MAX_PIXELS:
            raise InputError(
                f"{name}: {image.width}x{image.height} pixels, more than the "
                f"{MAX_PIXELS // 10**6} million accepted; shrink it first"
            )
        image.draft(None, (WORKING_SIZE, WORKING_SIZE))  # a JPEG decodes at 1/2-1/8 size: fast
        image = ImageOps.exif_transpose(image)  # phone photos: apply the camera's rotation
        image.thumbnail((WORKING_SIZE, WORKING_SIZE))  # shrink, keeping the aspect ratio
        if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16/32-bit or float pixels
            values, alpha = np.asarray(image, dtype=np.float32), None
            if not np.isfinite(values).all():
                raise InputError(f"{name}: some pixels are NaN or infinite")
            top = values.max()
            gray = values / (1 if image.mode == "F" and top <= 1 else 255 if top <= 255 else 65535)
        else:
            rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255  # (H, W, 4)
            # ITU-R 601 luma, as Pillow's "L": (H, W, 3) @ (3,) -> (H, W)
            gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
            alpha = rgba[..., 3]
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{name}: not an image (Pillow cannot identify its format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{name}: too many pixels (over Pillow's safety limit)") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise InputError(f"{name}: unreadable image ({error})") from None
    if alpha is not None and alpha.min() < 1:
        ink_is_dark = (gray * alpha).sum() / max(alpha.sum(), 1e-6) < 0.5
        gray = alpha * gray + (1 - alpha) * (1.0 if ink_is_dark else 0.0)
    return np.clip(gray, 0, 1)


def ink_map(gray: np.ndarray) -> np.ndarray:
    """(H, W) luminance -> (H, W) ink in [0, 1]: 0 where there is only paper.

    Polarity from the border: a light border means dark ink on light paper. The paper's
    own level is estimated locally (a grey closing wider than the strokes, from Pillow's
    MinFilter/MaxFilter), so uneven lighting and grey paper are removed too.
    """
    from PIL import Image, ImageFilter

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    dark_ink = np.median(border) > 0.5
    ink = 1 - gray if dark_ink else gray  # now ink is bright on a dark background
    # The background level: a grey opening (min filter, then max filter) a third of the image
    # wide wipes out the strokes and keeps the slowly varying paper. It is computed on a 64 px
    # copy (the background is smooth; full size would be slow) and scaled back up.
    image = Image.fromarray(ink.astype(np.float32), mode="F")
    height, width = (max(1, side * 64 // max(ink.shape)) for side in ink.shape)
    small = image.resize((width, height), Image.Resampling.BOX)
    size = 2 * (max(small.size) // 6) + 1
    background = small.filter(ImageFilter.MinFilter(size)).filter(ImageFilter.MaxFilter(size))
    background = background.resize(image.size, Image.Resampling.BILINEAR)
    ink = ink - np.asarray(background, dtype=np.float32)
    if ink.max() < 0.1:  # less than 10% contrast anywhere: no digit to see
        return np.zeros_like(ink)
    # Contrast: strongest ink -> 1; below 20% of it is paper texture or JPEG noise -> 0.
    return np.clip((ink / ink.max() - 0.2) / 0.8, 0, 1)


def preprocess_image(source: Path | bytes, name: str = "image") -> np.ndarray | None:
    """An image of one digit -> (784,) float32 in [0, 1], white ink on black, like MNIST;
    None when there is no ink to see (a blank page or canvas)."""
    ink = ink_map(read_grayscale(source, name))
    return to_mnist_frame(ink) if ink.any() else None


def save_preprocessed(image: np.ndarray, path: Path) -> None:
    """The 28x28 image the network saw, as an 8-bit PNG (white ink on black)."""
    from PIL import Image

    with outputs.atomic_write(path) as f:
        Image.fromarray(np.round(image.reshape(28, 28) * 255).astype(np.uint8), mode="L").save(
            f, format="PNG"
        )


def predict_photos(
    network: nn.NeuralNetwork,
    model: Path,
    images: list[Path],
    tta: bool = False,
    preprocessed_dir: Path | None = None,
    explain_dir: Path | None = None,
) -> int:
    """One line per image: the digit and its probability, or "not sure" with the best guess,
    "not a digit" (issue #20), or "no digit", and the two runners-up. An unreadable file is
    reported and skipped, the others still predicted; returns the exit status: 1 if any
    failed. With preprocessed_dir and explain_dir, also the 28x28 image the network saw and
    why it answered."""
    threshold, failed = threshold_of(network), 0
    not_a_digit = not_a_digit_threshold_of(network)
    stems = [f"{p.stem}-{hashlib.sha256(str(p).encode()).hexdigest()[:8]}" for p in images]
    written = []  # every file this run may write, checked before any work
    if preprocessed_dir:
        written += [preprocessed_dir / f"{stem}.28x28.png" for stem in stems]
    if explain_dir:
        written += [explain_dir / f"{stem}.why.png" for stem in stems]
    outputs.check_outputs(written, [model, *images])
    for path, stem in zip(images, stems):
        try:
            image = preprocess_image(path)
        except InputError as error:  # one line, whatever the file's name holds
            print(f"error: {error}".replace("\n", "\\n"), file=sys.stderr)
            failed += 1
            continue
        shown = repr(str(path))[1:-1]  # a newline in a file name cannot forge an output line
        if image is None:
            print(f"{shown}: no digit (the image looks blank)")
            continue
        probs = predict_proba_tta(network, image[np.newaxis], tta)[0]  # (10,)
        _, answer = verdict(probs, threshold, not_a_digit)
        first, *runners_up = np.argsort(-probs)[:3]
        others = ", ".join(f"{d} ({100 * probs[d]:.1f}%)" for d in runners_up)
        confidence = f" ({100 * probs[first]:.1f}%)" if answer == str(first) else ""
        print(f"{shown}: {answer}{confidence}  runner-up: {others}")
        if preprocessed_dir:
            save_preprocessed(image, preprocessed_dir / f"{stem}.28x28.png")
        if explain_dir:
            saliency = input_gradient(network, image[np.newaxis].astype(network.dtype), first)
            plot_explanation(
                image, probs, saliency, f"{path.name}: {answer}", explain_dir / f"{stem}.why.png"
            )
    for option, what in ((preprocessed_dir, "28x28 images"), (explain_dir, "explanations")):
        if option:
            print(f"The {what} are in {option}/ (named <image>-<hash of its path>)")
    if failed:
        print(
            f"error: {failed} of {len(images)} images could not be read (see above)",
            file=sys.stderr,
        )
    return 1 if failed else 0
