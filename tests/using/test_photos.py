"""Using a trained network: Kaggle submission, your own images, the report and the run record."""

import hashlib
import io
import os
import re
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import NN_Numpy as nn
import use_network as un
from files import kaggle_csv, paths
from using import photos, submission


@pytest.fixture(scope="session")
def model_path(mnist, tmp_path_factory):
    """A network trained for 5 epochs on 20,000 real rows (about 96% accurate), saved."""
    pixels, labels = mnist
    network = nn.NeuralNetwork(seed=0)
    nn.train(
        network,
        nn.normalize(pixels[:20000]),
        labels[:20000],
        config=nn.TrainConfig(epochs=5),
        log=lambda line: None,
    )
    path = (
        tmp_path_factory.mktemp("model") / "model.npz"
    )  # no run record: trained here, not by main()
    network.save(path)
    return path


@pytest.fixture(scope="session")
def network(model_path):
    return nn.NeuralNetwork.load(model_path)


def paste_on_canvas(
    digit: np.ndarray,
    size=(640, 480),
    at=(470, 60),
    scale=70,
    ink=(25, 25, 40),
    paper=(235, 232, 220),
):
    """An MNIST digit (28x28, white on black) drawn small and off-centre on a big light RGB page."""
    page = Image.new("RGB", size, paper)
    mask = Image.fromarray(digit).resize((scale, scale), Image.Resampling.BICUBIC)
    page.paste(Image.new("RGB", (scale, scale), ink), at, mask)
    return page


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    ys, xs = np.indices((28, 28))
    image = image.reshape(28, 28)
    return np.array([(ys * image).sum(), (xs * image).sum()]) / image.sum()


def test_submission_for_the_bundled_test_file(model_path, tmp_path, capsys):
    out = tmp_path / "submission.csv"
    assert un.main(["submit", "--model", str(model_path), "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0] == "ImageId,Label"
    submission = pd.read_csv(out)
    assert len(submission) == 28000
    assert submission["ImageId"].tolist() == list(range(1, 28001))
    assert submission["Label"].dtype.kind == "i" and submission["Label"].between(0, 9).all()
    test_pixels, _ = kaggle_csv.read_digits_csv(
        paths.BUNDLED_DATA_DIR / "test.csv.gz", labelled=False
    )
    expected = (
        nn.NeuralNetwork.load(model_path).predict_proba(nn.normalize(test_pixels)).argmax(axis=1)
    )
    np.testing.assert_array_equal(submission["Label"].to_numpy(), expected)
    assert "Checked: header ImageId,Label, ImageId 1..28000, labels 0-9" in capsys.readouterr().out


def test_submission_refuses_a_training_file_as_test_file(model_path, tmp_path, capsys):
    out = tmp_path / "submission.csv"
    assert (
        un.main(
            [
                "submit",
                "--model",
                str(model_path),
                "--test",
                str(paths.BUNDLED_DATA_DIR / "train.csv.gz"),
                "--out",
                str(out),
            ]
        )
        == 1
    )
    assert "wrong header for a test file" in capsys.readouterr().err
    assert not out.exists()


def test_check_submission_catches_a_broken_file():
    with pytest.raises(RuntimeError, match="ImageId is not 1..3"):
        submission.check_submission("ImageId,Label\n1,3\n3,4\n2,5\n", 3)
    with pytest.raises(RuntimeError, match="labels not 0-9"):
        submission.check_submission("ImageId,Label\n1,3\n2,12\n", 2)


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


def test_predict_command_reports_bad_files_and_still_predicts_the_others(
    mnist, model_path, tmp_path, capsys
):
    pixels, labels = mnist
    paste_on_canvas(pixels[30001].reshape(28, 28)).save(tmp_path / "one.jpg")
    paste_on_canvas(pixels[30002].reshape(28, 28)).save(tmp_path / "two.png")
    (tmp_path / "bad.png").write_text("oops")
    status = un.main(
        [
            "predict",
            str(tmp_path / "one.jpg"),
            str(tmp_path / "bad.png"),
            str(tmp_path / "two.png"),
            "--model",
            str(model_path),
            "--save-preprocessed",
            str(tmp_path / "seen"),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 1
    lines = out.splitlines()
    line = re.compile(
        r"^(.+): (\d) \((\d+\.\d)%\)  runner-up: (\d) \((\d+\.\d)%\), (\d) \((\d+\.\d)%\)$"
    )
    assert [line.match(text)[1] for text in lines[:2]] == [
        str(tmp_path / "one.jpg"),
        str(tmp_path / "two.png"),
    ]
    assert [int(line.match(text)[2]) for text in lines[:2]] == [labels[30001], labels[30002]]
    assert err.splitlines() == [
        f"error: {tmp_path / 'bad.png'}: not an image (Pillow cannot identify its format)",
        "error: 1 of 3 images could not be read (see above)",
    ]
    (seen_file,) = (tmp_path / "seen").glob("one-*.28x28.png")  # the name's hash: no clashes
    seen = Image.open(seen_file)
    assert seen.size == (28, 28) and seen.mode == "L"
    np.testing.assert_allclose(
        np.asarray(seen) / 255,
        photos.preprocess_image(tmp_path / "one.jpg").reshape(28, 28),
        atol=1 / 255,
    )


def test_predict_without_a_model_says_how_to_train(tmp_path, capsys):
    assert un.main(["predict", "x.png", "--model", str(tmp_path / "none.npz")]) == 1
    assert (
        capsys.readouterr().err
        == f"error: no model file at {tmp_path / 'none.npz'}; train one first: "
        "python src/NN_Numpy.py\n"
    )


def test_training_saves_its_run_record_inside_the_model_and_report_redraws_everything(
    tmp_path, capsys
):
    model, figures = tmp_path / "m.npz", tmp_path / "figures"
    argv = [
        "--limit",
        "2000",
        "--epochs",
        "2",
        "--model",
        str(model),
        "--figures-dir",
        str(figures),
    ]
    assert nn.main(argv) == 0
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [
        "m.npz"
    ]  # one file: model and record
    record = nn.NeuralNetwork.load(model).record
    assert set(record) == {
        "created",
        "command",
        "settings",
        "data",
        "versions",
        "history",
        "metrics",
    }
    with open(paths.BUNDLED_DATA_DIR / "train.csv.gz", "rb") as f:
        assert record["data"]["sha256"] == hashlib.file_digest(f, "sha256").hexdigest()
    assert set(record["versions"]) == {
        "python",
        "numpy",
        "pandas",
        "scikit-learn",
        "matplotlib",
        "pillow",
    }
    assert [h["epoch"] for h in record["history"]] == [1, 2]
    assert set(record["history"][0]) == {
        "epoch",
        "loss",
        "learning_rate",
        "val_loss",
        "val_accuracy",
        "seconds",
    }
    assert record["settings"] == {
        **asdict(nn.TrainConfig(limit=2000, epochs=2)),
        "hidden": [128, 64],
    }
    assert record["command"] == ["python", "src/NN_Numpy.py", *argv]
    assert (
        record["metrics"]["accuracy"] == record["history"][-1]["val_accuracy"]
    )  # the last epoch's weights
    capsys.readouterr()

    assert un.main(["report", "--model", str(model), "--figures-dir", str(figures)]) == 0
    out = capsys.readouterr().out
    assert f"Accuracy on 400 validation digits: {100 * record['metrics']['accuracy']:.2f}%" in out
    assert "precision    recall  f1-score   support" in out
    names = [
        "predictions.png",
        "confusion_matrix.png",
        "confident_mistakes.png",
        "first_layer_weights.png",
        "training_curves.png",
        "calibration.png",
        "mistake_heat_maps.png",
        "answers.png",
        "robustness.png",
    ]
    assert sorted(p.name for p in figures.iterdir()) == sorted(names)
    not_a_digit = record["metrics"]["not_a_digit_threshold"]
    assert re.search(
        rf"^Not a digit below {not_a_digit:.4f}: of 1,000 made-up non-digits, \d+\.\d% called "
        r"'not a digit', \d+\.\d% answered with a digit$",
        out,
        re.M,
    )
    threshold = record["metrics"]["not_sure_threshold"]
    assert re.search(
        rf"^Not sure below {threshold:.4f}: answers \d+\.\d% of the validation digits, "
        r"\d+\.\d\d% of them right$",
        out,
        re.M,
    )
    for name in names:
        assert (figures / name).stat().st_size > 10_000, name


def test_report_of_a_model_without_a_run_record(model_path, capsys):
    assert un.main(["report", "--model", str(model_path)]) == 1
    assert capsys.readouterr().err == (
        f"error: {model_path}'s run record has no settings.limit, needed to rebuild the "
        "validation split; retrain the model: python src/NN_Numpy.py\n"
    )


def test_train_on_all_has_no_validation_split_and_report_says_so(tmp_path, capsys):
    model = tmp_path / "final.npz"
    assert (
        nn.main(
            [
                "--train-on-all",
                "--limit",
                "1500",
                "--epochs",
                "2",
                "--no-plots",
                "--model",
                str(model),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Training on all 1,500 rows (--train-on-all: no validation split)" in out
    assert re.search(r"^Training Accuracy: \d+\.\d\d% \(no validation split\)$", out, re.M)
    assert "Epoch 2/2, Loss: " in out and "Val Loss" not in out
    record = nn.NeuralNetwork.load(model).record
    assert (
        record["metrics"]["evaluated_on"] == "training"
        and record["settings"]["train_on_all"] is True
    )
    assert un.main(["report", "--model", str(model), "--figures-dir", str(tmp_path / "fig")]) == 0
    assert "Accuracy on 1,500 training digits" in capsys.readouterr().out


def test_predict_says_not_sure_below_the_models_threshold_and_explains(
    mnist, model_path, tmp_path, capsys
):
    pixels, labels = mnist
    network = nn.NeuralNetwork.load(model_path)
    network.record = {"metrics": {"not_sure_threshold": 1.5}}  # never sure enough
    network.save(tmp_path / "doubtful.npz")
    paste_on_canvas(pixels[30001].reshape(28, 28)).save(tmp_path / "one.png")
    Image.new("L", (50, 50), 200).save(tmp_path / "blank.png")
    weird = tmp_path / "two\nfake: 7 (100.0%)  runner-up: 1 (0.0%), 2 (0.0%).png"
    paste_on_canvas(pixels[30002].reshape(28, 28)).save(weird, format="PNG")
    argv = [
        "predict",
        str(tmp_path / "one.png"),
        str(tmp_path / "blank.png"),
        str(weird),
        "--model",
        str(tmp_path / "doubtful.npz"),
        "--explain",
        str(tmp_path / "why"),
    ]
    assert un.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        rf".*one.png: not sure \(best guess {labels[30001]}, \d+%\)  runner-up: .*", lines[0]
    )
    assert lines[1] == f"{tmp_path / 'blank.png'}: no digit (the image looks blank)"
    assert (
        lines[2].startswith(str(tmp_path / "two\\nfake: 7")) and len(lines) == 4
    )  # no forged line
    explained = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "why").iterdir())
    assert explained == ["one", weird.stem]
    assert all(p.stat().st_size > 10_000 for p in (tmp_path / "why").iterdir())
