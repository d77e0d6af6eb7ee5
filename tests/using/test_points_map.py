"""src/using/points_map.py: the points map's sample, layers and projections."""

import numpy as np
import pytest

import NN_Numpy as nn
from using import points_map as pm


def line_points(n=200, d=30, seed=0):
    """n points on a line through R^d, away from the origin, spread unevenly along it."""
    rng = np.random.default_rng(seed)
    direction = rng.standard_normal(d)
    return rng.standard_normal(d) + np.outer(rng.standard_normal(n) ** 3, direction), direction


def test_points_on_a_line_project_to_a_line_keeping_their_order_and_spacing():
    points, direction = line_points()
    xy = pm.project_pca(points)
    assert xy.shape == (200, 2)
    centred = xy - xy.mean(axis=0)
    assert np.linalg.svd(centred, compute_uv=False)[1] < 1e-9 * np.abs(centred).max()  # rank 1
    # along the line, the map keeps the distances: the position along the line, up to sign
    along = (points - points.mean(axis=0)) @ direction / np.linalg.norm(direction)
    assert np.allclose(np.abs(np.corrcoef(xy[:, 0], along)[0, 1]), 1)
    assert np.allclose(np.linalg.norm(centred, axis=1), np.abs(along))
    assert pm.fit_pca(points).explained == pytest.approx(1)


def test_a_plane_is_kept_whole_and_points_off_it_land_on_their_shadow():
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.standard_normal((20, 2)))[0]  # (20, 2) orthonormal
    points = rng.standard_normal((300, 2)) * [3, 1] @ basis.T + 5
    projection = pm.fit_pca(points)
    xy = projection.place(points)
    # distances within the plane are kept exactly (an orthogonal map)
    i, j = rng.integers(0, 300, (2, 50))
    assert np.allclose(
        np.linalg.norm(xy[i] - xy[j], axis=1), np.linalg.norm(points[i] - points[j], axis=1)
    )
    # a new point off the plane lands where its foot on the plane does
    new = points[0] + np.linalg.qr(np.c_[basis, rng.standard_normal(20)])[0][:, 2] * 4
    assert np.allclose(projection.place(new[None]), xy[:1])


def test_the_alignment_removes_a_sign_flip_and_a_turn():
    rng = np.random.default_rng(2)
    points = rng.standard_normal((500, 12)) * np.linspace(4, 0.5, 12)
    first = pm.project_pca(points)
    for turn in [np.diag([-1.0, 1.0]), np.diag([1.0, -1.0]), -np.eye(2), [[0, 1], [-1, 0]]]:
        flipped = first @ np.asarray(turn)  # the same map, flipped or turned
        again = pm.project_pca(points, previous=flipped)
        assert np.allclose(again, flipped, atol=1e-9)
    assert not np.allclose(pm.project_pca(points), first @ np.diag([-1.0, 1.0]))  # not by luck


def test_the_alignment_never_stretches_and_follows_a_changing_layer():
    rng = np.random.default_rng(3)
    points = rng.standard_normal((400, 8)) * [5, 2, 1, 1, 1, 1, 1, 1]
    previous = pm.project_pca(points) @ np.diag([-1.0, 1.0]) * 10  # flipped and 10x larger
    moved = points + 0.05 * rng.standard_normal(points.shape)  # the next epoch's layer
    again = pm.project_pca(moved, previous=previous)
    plain = pm.project_pca(moved)
    assert np.allclose(np.linalg.norm(again, axis=1), np.linalg.norm(plain, axis=1))  # no scaling
    assert np.corrcoef(again[:, 0], previous[:, 0])[0, 1] > 0.99  # the flip is undone
    assert np.corrcoef(again[:, 1], previous[:, 1])[0, 1] > 0.99


def test_bad_points_and_a_previous_of_other_rows_are_refused():
    with pytest.raises(ValueError, match="not all finite"):
        pm.project_pca([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="2 or more points"):
        pm.project_pca(np.ones((1, 5)))
    with pytest.raises(ValueError, match="same 10 rows"):
        pm.project_pca(np.random.default_rng(0).random((10, 4)), previous=np.zeros((9, 2)))


def test_points_that_do_not_spread_map_to_the_origin():
    # e.g. a hidden layer of all-zero weights: every digit gives the same activations
    xy = pm.project_pca(np.full((50, 64), 0.3))
    assert xy.shape == (50, 2) and not xy.any()
    assert pm.fit_pca(np.full((50, 64), 0.3)).explained == 0


def test_the_sample_is_stratified_and_fixed(mnist):
    _, labels = mnist
    rows = pm.map_sample(labels, 1000, seed=0)
    assert len(rows) == len(set(rows)) == 1000 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, pm.map_sample(labels, 1000, seed=0))
    assert not np.array_equal(rows, pm.map_sample(labels, 1000, seed=1))
    share = np.bincount(labels[rows], minlength=10) / 1000
    assert np.abs(share - np.bincount(labels, minlength=10) / len(labels)).max() < 0.0015
    assert np.array_equal(pm.map_sample(labels[:300], 1000), np.arange(300))  # fewer: all


def test_a_sample_that_cannot_be_stratified_is_still_one():
    labels = np.array([0] * 50 + [1])  # one row of class 1
    rows = pm.map_sample(labels, 20, seed=0)
    assert len(set(rows)) == 20 and np.array_equal(rows, pm.map_sample(labels, 20, seed=0))


def test_layer_points_are_the_networks_own_forward(small_split):
    X = small_split[2][:37]
    network = nn.NeuralNetwork(seed=0)
    points = pm.layer_points(network, X)
    assert list(points) == list(pm.LAYERS) == pm.layer_names(network)
    assert {name: p.shape for name, p in points.items()} == {
        "pixels": (37, 784),
        "hidden 1": (37, 128),
        "hidden 2": (37, 64),
        "output": (37, 10),
    }
    assert np.array_equal(points["pixels"], X)
    assert np.array_equal(points["output"], network.predict_logits(X))
    assert (points["hidden 1"] >= 0).all() and (points["hidden 1"] > 0).any()  # ReLU'd
    small = nn.NeuralNetwork((784, 16, 10), seed=0)
    assert list(pm.layer_points(small, X)) == ["pixels", "hidden 1", "output"]


def test_each_dots_answer_and_image_as_the_pages_get_them(small_split):
    X = small_split[2][:40]
    network = nn.NeuralNetwork(seed=0)
    predicted, probability = pm.answers(pm.layer_points(network, X)["output"])
    probs = network.predict_proba(X)
    assert np.array_equal(predicted, probs.argmax(axis=1))
    assert np.allclose(probability, probs.max(axis=1), atol=1e-6)
    images = pm.image_bytes(np.array([[0.0, 0.5, 1.0, 1.5, -0.2] + [0.0] * 779] * 2))
    assert len(images) == 2 * 784 and list(images[:5]) == [0, 128, 255, 255, 0]


def test_layer_points_in_chunks_match_one_pass(small_split, monkeypatch):
    X = small_split[2][:50]
    network = nn.NeuralNetwork(seed=0)
    whole = pm.layer_points(network, X)
    monkeypatch.setattr(pm, "CHUNK", 7)
    for name, points in pm.layer_points(network, X).items():
        assert np.allclose(points, whole[name], atol=1e-5)


def test_the_map_series_aligns_each_layer_and_places_new_points(small_split):
    X = small_split[2][:200]
    network = nn.NeuralNetwork(seed=0)
    series = pm.MapSeries()
    first = series.update(pm.layer_points(network, X))
    for layer in network.layers:
        layer.weights *= -1  # a network whose hidden maps differ from the first's
    second = series.update(pm.layer_points(network, X))
    assert np.allclose(second["pixels"], first["pixels"])  # the pixels never change
    placed = series.place(pm.layer_points(network, X[:3]))
    for name in pm.LAYERS:
        assert np.allclose(placed[name], second[name][:3], atol=1e-4)


def test_tsne_is_the_same_for_the_same_seed():
    rng = np.random.default_rng(4)
    points = np.r_[rng.normal(0, 1, (40, 5)), rng.normal(8, 1, (40, 5))]
    xy = pm.project_tsne(points, seed=0)
    assert xy.shape == (80, 2) and np.array_equal(xy, pm.project_tsne(points, seed=0))
    # the two clouds stay apart: every point's nearest neighbour is of its own cloud
    distance = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(80) * 1e9
    assert (distance.argmin(axis=1) // 40 == np.arange(80) // 40).all()
