"""python src/use_network.py predict: your own images, read from the command line."""

import re

import numpy as np
from conftest import paste_on_canvas
from PIL import Image

import NN_Numpy as nn
import use_network as un
from using import photos


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
