"""using/experiments.py: the variants of a comparison, trained at once, each exactly the run
NN_Numpy.py gives with its options; the lessons; the handwriting set; the results."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import NN_Numpy as nn
from files.errors import InputError
from using import experiments as ex

SMALL = ["--epochs", "2", "--limit", "3000"]


def weights_of(path):
    with np.load(path) as data:
        return {name: data[name] for name in data.files if name != "record"}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One comparison of three tiny variants: the defaults, no distortions, and a learning
    rate that makes the loss overflow; trained at once, one process each."""
    models = tmp_path_factory.mktemp("models")
    variants = {"default": [], "plain": ex.NO_DISTORTIONS, "lr-1000": ["--lr", "1000"]}
    planned = ex.plan("test", variants, SMALL, models)
    comparison = ex.Comparison("test", "a test", "nothing", planned, echo=False)
    statuses = ex.run(planned, comparison.receive)
    return planned, statuses, comparison


def test_each_variant_is_exactly_the_run_nn_numpy_gives(compared, tmp_path):
    planned, statuses, _ = compared
    assert statuses == [0, 0, 1]
    default, plain, _ = planned
    assert default.model.name == "compare-test-A-default.npz"
    assert plain.argv == [*SMALL, *ex.NO_DISTORTIONS, "--model", str(plain.model), "--no-plots"]
    # The defaults distort the images, and NN_Numpy.py then trains at one BLAS thread anyway:
    # a direct run, as it comes, gives the very same bits.
    direct = tmp_path / "direct.npz"
    assert nn.main([*SMALL, "--model", str(direct), "--no-plots"]) == 0
    ours, theirs = weights_of(default.model), weights_of(direct)
    assert ours.keys() == theirs.keys() and len(ours) == 7
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name])
    # Without distortions, a variant equals the direct run at one BLAS thread
    with threadpool_limits(1):
        assert nn.main([*SMALL, *ex.NO_DISTORTIONS, "--model", str(direct), "--no-plots"]) == 0
    ours, theirs = weights_of(plain.model), weights_of(direct)
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name])
    record, direct_record = (nn.NeuralNetwork.load(path).record for path in (plain.model, direct))
    assert record["command"] == ["python", "src/NN_Numpy.py", *plain.argv]
    for key in ("loss", "val_loss", "val_accuracy"):
        assert [h[key] for h in record["history"]] == [h[key] for h in direct_record["history"]]


def test_what_the_variants_sent_is_what_they_trained(compared):
    planned, _, comparison = compared
    state = comparison.state()
    default, plain, diverged = state["variants"]
    assert [default["status"], plain["status"], diverged["status"]] == ["trained"] * 2 + ["failed"]
    for variant, sent in zip(planned[:2], state["variants"][:2]):
        record = nn.NeuralNetwork.load(variant.model).record
        assert [h["loss"] for h in sent["history"]] == [h["loss"] for h in record["history"]]
        assert [h["val_accuracy"] for h in sent["history"]] == [
            h["val_accuracy"] for h in record["history"]
        ]
        assert len(sent["gradient"]) == 2 and all(len(g) == 3 for g in sent["gradient"])
        assert all(0 < g < 1 for g in sent["gradient"][-1])
        snapshot, weights = comparison.latest_weights(planned.index(variant))
        np.testing.assert_array_equal(
            weights, nn.NeuralNetwork.load(variant.model).layers[0].weights
        )
        assert snapshot == 3  # the start and 2 epochs
    maps = comparison.latest_maps(0)
    assert list(maps["layers"]) == ["pixels", "hidden 1", "hidden 2", "output"]
    assert maps["layers"]["hidden 2"].shape == (600, 2) and maps["labels"].shape == (600,)
    assert maps["epoch"] == 2
    # The diverged variant: its one line, as the trainer says it, and no model
    assert diverged["error"].startswith("the training loss became nan in epoch 1, batch ")
    assert diverged["error"].endswith("(--learning-rate 100). No model was saved.")
    assert not planned[2].model.exists() and diverged["history"] == []


def test_results_score_each_saved_model_and_name_the_failed(compared, tmp_path):
    planned, statuses, _ = compared
    folder = tmp_path / "handwriting"
    folder.mkdir()
    source = next(filter(Path.is_dir, ex.HANDWRITING_SETS), None)
    if source is None:
        pytest.skip("no handwriting set beside the project")
    lines = (source / "labels.csv").read_text().splitlines()[:11]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    for line in lines[1:]:
        shutil.copy(source / line.split(",")[0], folder)
    X, y = ex.handwriting_set(folder)
    assert X.shape == (10, 784) and y.shape == (10,)
    results = ex.evaluate(planned, statuses, (X, y))
    assert [r["failed"] for r in results] == [False, False, True]
    network = nn.NeuralNetwork.load(planned[0].model)
    assert results[0]["validation_accuracy"] == network.record["metrics"]["accuracy"]
    assert results[0]["handwriting_accuracy"] == network.accuracy(X, y)
    assert results[0]["handwriting_images"] == 10
    assert "handwriting_accuracy" not in ex.evaluate(planned, statuses, None)[0]


def test_a_handwriting_set_absent_or_broken(tmp_path):
    assert ex.handwriting_set(tmp_path / "absent") is None
    assert ex.handwriting_set(None) is None
    with pytest.raises(InputError, match="labels.csv: no such file"):
        ex.handwriting_set(tmp_path)
    (tmp_path / "labels.csv").write_text("file,label\n../secret.png,3\n")
    with pytest.raises(InputError, match=r"line 2: expected a file name in this folder"):
        ex.handwriting_set(tmp_path)
    (tmp_path / "labels.csv").write_text("file,label\n")
    with pytest.raises(InputError, match="lists no images"):
        ex.handwriting_set(tmp_path)


def test_every_lesson_plans_and_differs_from_its_first_variant_in_one_stated_way(tmp_path):
    for name, lesson in ex.LESSONS.items():
        planned = ex.plan(name, lesson.variants, ex.lesson_options([]), tmp_path)
        assert 2 <= len(planned) <= 3 and planned[0].options == []
        assert all(v.config.epochs == ex.LESSON_EPOCHS for v in planned)
        assert len({v.model for v in planned}) == len(planned)
        assert all(v.model.name.startswith(f"compare-{name}-") for v in planned)
        defaults = nn.TrainConfig(epochs=ex.LESSON_EPOCHS)
        for variant in planned[1:]:
            assert variant.config != defaults
        assert len(lesson.look_for) < 300 and "\n" not in lesson.look_for
    assert list(tmp_path.iterdir()) == []  # planning writes nothing


def test_a_lesson_takes_your_epochs():
    assert ex.lesson_options([]) == ["--epochs", "10"]
    assert ex.lesson_options(["--epochs", "3"]) == ["--epochs", "3"]
    assert ex.lesson_options(["--epo=3", "--limit", "9"]) == ["--epo=3", "--limit", "9"]
    assert ex.lesson_options(["--elastic", "0"]) == ["--epochs", "10", "--elastic", "0"]


@pytest.mark.parametrize(
    "variants, common, message",
    [
        ({"a": []}, [], "a comparison needs 2 to 6 variants, got 1"),
        (
            {"a": [], "b": ["--activation", "tanh"]},
            [],
            "variant B (--activation tanh): argument --activation: invalid choice: 'tanh'",
        ),
        ({"a": [], "b": ["--momentum", "1"]}, [], "variant B (--momentum 1): --momentum must be"),
        ({"a": [], "b": []}, ["--bogus"], "the options for every variant (--bogus): unrecog"),
        ({"a": ["--model", "x.npz"], "b": []}, [], "variant A (--model x.npz): --model is chosen"),
    ],
)
def test_a_comparison_that_cannot_run_is_one_line_and_writes_nothing(
    tmp_path, variants, common, message
):
    with pytest.raises(ex.VariantError) as info:
        ex.plan("test", variants, common, tmp_path)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_custom_variants_are_named_by_their_options():
    variants = ex.custom_variants(["", "--hidden 32 16", "--hidden  32 16", "--lr=3"])
    assert variants == {
        "default": [],
        "hidden-32-16": ["--hidden", "32", "16"],
        "hidden-32-16-again": ["--hidden", "32", "16"],
        "lr-3": ["--lr=3"],
    }
    with pytest.raises(ex.VariantError, match="No closing quotation"):
        ex.custom_variants(['--lr "3'])
    assert ex.slug("../../etc/passwd") == "etc-passwd" and ex.slug("x" * 99) == "x" * 40


def test_each_variant_keeps_its_own_map_sample_and_any_first_map_names_the_layers(tmp_path):
    # a variant with another --seed splits the rows otherwise: its own digits and labels
    planned = ex.plan("t", {"a": [], "b": ["--seed", "1"]}, [], tmp_path)
    comparison = ex.Comparison("t", "t", "t", planned, echo=False)

    def started(i: int, labels: list[int]) -> dict:
        maps = {"pixels": np.zeros((3, 2), np.float32), "output": np.ones((3, 2), np.float32)}
        return {
            "variant": i,
            "kind": "started",
            "batches_per_epoch": 5,
            "weights": np.zeros((784, 4), np.float32),
            "map_labels": np.array(labels, np.int8),
            "map_images": bytes([i]) * 3 * 784,
            "maps": maps,
            "map_predicted": np.array([1, 2, 3], np.int8),
            "map_probability": np.array([0.5, 0.625, 0.75], np.float32),
        }

    comparison.receive(started(1, [1, 2, 4]))  # B first: A still reads its data
    assert comparison.state()["map_layers"] == ["pixels", "output"]
    assert comparison.latest_maps(0) is None and comparison.latest_map_images(0) is None
    comparison.receive(started(0, [7, 8, 9]))
    assert comparison.latest_maps(0)["labels"].tolist() == [7, 8, 9]
    b = comparison.latest_maps(1)
    assert b["labels"].tolist() == [1, 2, 4] and b["probability"].tolist() == [0.5, 0.625, 0.75]
    assert comparison.latest_map_images(1) == b"\x01" * 3 * 784
