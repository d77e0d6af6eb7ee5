"""src/using/photos.py: your own photos of digits, preprocessed and read."""

import io
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import paste_on_canvas
from PIL import Image

import NN_Numpy as nn
import use_network as un
from using import photos


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    ys, xs = np.indices((28, 28))
    image = image.reshape(28, 28)
    return np.array([(ys * image).sum(), (xs * image).sum()]) / image.sum()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_small_off_centre_digit_on_a_big_page_comes_back_centred_and_recognised(
    mnist, network, tmp_path, fmt
):
    pixels, labels = mnist
    rows = [
        i
        for i in range(30000, 30060)
        if network.predict(nn.normalize(pixels[i : i + 1]))[0] == labels[i]
    ][:20]
    agree = 0
    for k, i in enumerate(rows):
        path = tmp_path / f"digit{k}.{fmt.lower()}"
        paste_on_canvas(pixels[i].reshape(28, 28), at=(40 + 25 * k, 300 - 10 * k)).save(
            path, format=fmt
        )
        image = photos.preprocess_image(path)
        assert image.shape == (784,) and image.dtype == np.float32 and image.max() == 1.0
        assert (
            np.abs(centre_of_mass(image) - 13.5).max() <= 0.5 + 1e-6
        )  # centre of mass at the centre
        frame = image.reshape(28, 28) > 0.05  # ignore the faintest anti-aliasing
        height, width = (
            np.ptp(np.nonzero(frame.any(axis=1))[0]) + 1,
            np.ptp(np.nonzero(frame.any(axis=0))[0]) + 1,
        )
        assert 19 <= max(height, width) <= 21, (
            height,
            width,
        )  # the longer side scaled to 20 pixels
        agree += network.predict(image[None])[0] == labels[i]
    assert agree >= 19, f"{agree} of {len(rows)}"  # measured: 20 of 20 for PNG and JPEG


def test_polarity_is_detected_both_ways(mnist, tmp_path):
    digit = mnist[0][7].reshape(28, 28)
    paste_on_canvas(digit, ink=(20, 20, 20), paper=(240, 240, 240)).save(
        tmp_path / "dark_on_light.png"
    )
    paste_on_canvas(digit, ink=(240, 240, 240), paper=(20, 20, 20)).save(
        tmp_path / "light_on_dark.png"
    )
    dark = photos.preprocess_image(tmp_path / "dark_on_light.png")
    light = photos.preprocess_image(tmp_path / "light_on_dark.png")
    assert np.corrcoef(dark, light)[0, 1] > 0.99
    for image in (dark, light):  # both come out as MNIST draws digits: white ink on black
        frame = image.reshape(28, 28)
        assert frame.max() == 1.0 and frame[:2].max() == 0 and frame[-2:].max() == 0


def test_image_modes_all_give_the_same_digit(mnist, tmp_path):
    digit = mnist[0][11].reshape(28, 28)
    page = paste_on_canvas(digit)
    reference = None
    variants = {
        "rgb.png": page,
        "gray.png": page.convert("L"),
        "palette.png": page.convert("P"),
        "gray16.png": Image.fromarray(np.asarray(page.convert("L")).astype(np.uint16) * 257),
    }
    transparent = Image.new("RGBA", page.size, (0, 0, 0, 0))  # strokes on a transparent canvas
    transparent.paste(
        Image.new("RGBA", (70, 70), (30, 30, 200, 255)),
        (470, 60),
        Image.fromarray(digit).resize((70, 70), Image.Resampling.BICUBIC),
    )
    variants["transparent.png"] = transparent
    for name, image in variants.items():
        image.save(tmp_path / name)
        processed = photos.preprocess_image(tmp_path / name)
        reference = processed if reference is None else reference
        assert np.corrcoef(processed, reference)[0, 1] > 0.95, name


def test_uneven_grey_background_is_removed(mnist, tmp_path):
    digit = mnist[0][3].reshape(28, 28)
    ramp = np.tile(np.linspace(140, 250, 640), (480, 1)).astype(
        np.uint8
    )  # light grey to white, left to right
    page = Image.fromarray(ramp).convert("RGB")
    page.paste(
        Image.new("RGB", (70, 70), (30, 30, 30)),
        (300, 200),
        Image.fromarray(digit).resize((70, 70), Image.Resampling.BICUBIC),
    )
    page.save(tmp_path / "uneven.png")
    processed = photos.preprocess_image(tmp_path / "uneven.png")
    clean = paste_on_canvas(digit, at=(300, 200))
    clean.save(tmp_path / "clean.png")
    assert np.corrcoef(processed, photos.preprocess_image(tmp_path / "clean.png"))[0, 1] > 0.95


def test_bad_image_files_get_clear_errors(tmp_path):
    Image.new("RGB", (200, 100), (180, 180, 180)).save(tmp_path / "blank.png")
    assert (
        photos.preprocess_image(tmp_path / "blank.png") is None
    )  # no ink: "no digit", not an error
    (tmp_path / "notes.png").write_text("not really a png")
    truncated = io.BytesIO()
    paste_on_canvas(np.full((28, 28), 255, np.uint8)).save(truncated, format="PNG")
    (tmp_path / "truncated.png").write_bytes(truncated.getvalue()[:200])
    (tmp_path / "folder.png").mkdir()
    os.mkfifo(tmp_path / "pipe.png")  # opening it for reading would block forever
    nan = np.full((40, 40), np.nan, np.float32)
    Image.fromarray(nan, mode="F").save(tmp_path / "nan.tiff")
    cases = {
        "notes.png": "not an image (Pillow cannot identify its format)",
        "missing.png": "no such file",
        "folder.png": "not a regular file (a folder, pipe or device)",
        "pipe.png": "not a regular file (a folder, pipe or device)",
        "nan.tiff": "some pixels are NaN or infinite",
    }
    for name, message in cases.items():
        with pytest.raises(nn.InputError) as info:
            photos.preprocess_image(tmp_path / name)
        assert str(info.value) == f"{tmp_path / name}: {message}"
    with pytest.raises(nn.InputError, match=r"truncated.png: unreadable image \("):
        photos.preprocess_image(tmp_path / "truncated.png")


def test_float_images_in_0_to_1_are_not_called_blank(mnist, tmp_path):
    page = np.asarray(paste_on_canvas(mnist[0][5].reshape(28, 28)).convert("L"), np.float32) / 255
    Image.fromarray(page, mode="F").save(tmp_path / "float.tiff")
    Image.fromarray(np.round(page * 255).astype(np.uint8)).save(tmp_path / "eight_bit.png")
    float_image = photos.preprocess_image(tmp_path / "float.tiff")
    assert float_image is not None
    assert (
        np.corrcoef(float_image, photos.preprocess_image(tmp_path / "eight_bit.png"))[0, 1] > 0.99
    )


def test_huge_images_are_refused_from_their_header(tmp_path):
    # 7,000 x 7,000 = 49 Mpx: under Pillow's own limit, over ours; a few kB on disk
    Image.new("1", (7000, 7000)).save(tmp_path / "huge.png")
    with pytest.raises(
        nn.InputError, match=r"huge.png: 7000x7000 pixels, more than the 40 million"
    ):
        photos.preprocess_image(tmp_path / "huge.png")


def digit_png(path: Path, pixels: np.ndarray) -> Path:
    Image.fromarray(255 - pixels.reshape(28, 28)).resize((140, 140)).save(path, format="PNG")
    return path


# Issue #12, item 3: nothing hangs, and one bad image does not abort the batch


def test_predict_skips_a_fifo_and_a_nan_tiff_and_reads_the_rest(mnist, model, tmp_path, capsys):
    good = digit_png(tmp_path / "good.png", mnist[0][1])
    os.mkfifo(tmp_path / "fifo.png")
    Image.fromarray(np.full((30, 30), np.nan, np.float32), mode="F").save(tmp_path / "nan.tiff")
    argv = [
        "predict",
        str(tmp_path / "fifo.png"),
        str(tmp_path / "nan.tiff"),
        str(good),
        "--model",
        str(model),
    ]
    assert un.main(argv) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{good}: ")
    assert err.splitlines() == [
        f"error: {tmp_path / 'fifo.png'}: not a regular file (a folder, pipe or device)",
        f"error: {tmp_path / 'nan.tiff'}: some pixels are NaN or infinite",
        "error: 2 of 3 images could not be read (see above)",
    ]


def test_an_image_with_too_many_pixels_is_refused_from_its_header(tmp_path):
    Image.new("RGBA", (6500, 6500)).save(tmp_path / "big.png")  # 42 Mpx, under Pillow's limit
    with pytest.raises(
        nn.InputError, match="big.png: 6500x6500 pixels, more than the 40 million accepted"
    ):
        photos.preprocess_image(tmp_path / "big.png")


def test_saved_images_of_files_sharing_a_stem_do_not_overwrite_each_other(
    mnist, model, tmp_path, capsys
):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = digit_png(tmp_path / "a" / "digit.png", mnist[0][1])
    second = digit_png(tmp_path / "b" / "digit.png", mnist[0][2])
    argv = [
        "predict",
        str(first),
        str(second),
        "--model",
        str(model),
        "--save-preprocessed",
        str(tmp_path / "seen"),
    ]
    assert un.main(argv) == 0
    assert len(list((tmp_path / "seen").iterdir())) == 2


def test_a_newline_in_a_file_name_cannot_forge_a_line(mnist, model, tmp_path, capsys):
    path = digit_png(tmp_path / "x\n7 (100.0%).png", mnist[0][1])
    (tmp_path / "bad\nerror: all fine.png").write_text("not an image")
    assert (
        un.main(
            [
                "predict",
                str(path),
                str(tmp_path / "bad\nerror: all fine.png"),
                "--model",
                str(model),
            ]
        )
        == 1
    )
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and len(err.splitlines()) == 2
