"""The points map: what each layer makes of the digits, each digit a dot placed in 2-D.

For a fixed sample of validation digits, the activations of every layer (the pixels, each
hidden layer, the output) are projected to two dimensions. In the pixels the digits are a
tangle; layer after layer they pull apart into one cluster per digit, and the digits the
network gets wrong sit between clusters. Two projections:

- PCA (`project_pca`): the plane through the points' mean along which they spread most.
  Distances and directions mean the same everywhere on the map, and a new point (a digit
  drawn on the page) lands by the same formula, `Projection.place`. It shows only the two
  directions of widest spread: clusters apart in the layer may overlap on the map.
- t-SNE (`project_tsne`): keeps each point's near neighbours near. It separates clusters
  that PCA overlaps, but the distances between clusters, and their sizes, mean nothing; and
  a new point cannot be placed on it without redoing it all (the report draws it, the live
  page does not).

    rows = map_sample(y_val)                               # 1,000 digits, every class its share
    points = layer_points(network, X_val[rows])            # {"pixels": (1000, 784), ...}
    projection = fit_pca(points["hidden 2"], previous)     # previous: last epoch's (1000, 2)
    xy = projection.place(points["hidden 2"])              # (1000, 2)

scikit-learn and SciPy are imported inside the functions that use them: they take a second to
load, and a command that draws no map should not wait for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import NN_Numpy as nn

MAP_SIZE = 1000  # digits on the map: enough to see every cluster, few enough to hover over
LAYERS = ("pixels", "hidden 1", "hidden 2", "output")  # of the default 784-128-64-10 network
CHUNK = 4096  # rows run through the network at once: bounded memory for any number of rows


def map_sample(labels, size: int = MAP_SIZE, seed: int = 0) -> np.ndarray:
    """Row numbers of `size` of the labels, each class in its share (stratified), sorted:
    the same rows for the same labels and seed. All rows when there are no more than size;
    a plain random sample when stratifying cannot work (a class with a single row)."""
    from sklearn.model_selection import StratifiedShuffleSplit

    labels = np.asarray(labels)
    if size < 1:
        raise ValueError(f"a map needs at least 1 point, got size={size}")
    if len(labels) <= size:
        return np.arange(len(labels))
    split = StratifiedShuffleSplit(n_splits=1, train_size=size, random_state=seed)
    try:
        rows, _ = next(split.split(np.zeros(len(labels)), labels))
    except ValueError:  # a class of one row, or fewer rows asked for than there are classes
        rows = np.random.default_rng(seed).choice(len(labels), size, replace=False)
    return np.sort(rows)


def layer_names(network: nn.NeuralNetwork) -> list[str]:
    """The layers' names: pixels, hidden 1 ... hidden k, output (LAYERS for the default)."""
    hidden = [f"hidden {i}" for i in range(1, len(network.layers))]
    return ["pixels", *hidden, "output"]


def layer_sizes(network: nn.NeuralNetwork) -> dict[str, int]:
    """How many numbers each layer gives a digit: {"pixels": 784, "hidden 1": 128, ...}."""
    return dict(zip(layer_names(network), network.layer_sizes))


def layer_points(network: nn.NeuralNetwork, X) -> dict[str, np.ndarray]:
    """Images X (B, 784) -> each layer's activations, by the network's own FCLayer.forward:
    {"pixels": (B, 784), "hidden 1": (B, 128), "hidden 2": (B, 64), "output": (B, 10)}.

    The output is the logits, not the softmax probabilities: the softmax squeezes every
    confident digit onto one of ten corners, so a trained network's output map would be ten
    piles of dots with nothing to see inside or between them; the logits keep how sure it is
    and which answer came second. (The answer is the same: the largest logit.)

    Like network.forward, it leaves these rows' arrays in the layers: run it on a network
    that no other thread runs at the same time (the page runs it on a copy)."""
    X = network.check_input(X)  # (B, 784) in the network's dtype, or an InputError
    names = layer_names(network)
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, len(X), CHUNK):
        x = X[start : start + CHUNK]  # (b, 784)
        chunks["pixels"].append(x)
        for name, layer in zip(names[1:], network.layers):
            x = layer.forward(x)  # (b, n_in) -> (b, n_out)
            chunks[name].append(x)
    return {
        name: np.concatenate(parts) if parts else np.empty((0, size))
        for (name, parts), size in zip(chunks.items(), network.layer_sizes)
    }


def answers(output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The output layer's points (the logits, (B, 10)) -> the network's answer for each digit
    (B,) and the probability it gives that answer (B,), as the pages show beside a dot."""
    probs = nn.softmax(output)  # (B, 10)
    predicted = probs.argmax(axis=1)
    return predicted, probs[np.arange(len(probs)), predicted]


def image_bytes(images: np.ndarray) -> bytes:
    """Images (n, 784) in [0, 1] -> n * 784 bytes 0-255: the map's digits as the pages get
    them (GET /points/images, /maps/images), image after image in the order of the points."""
    return np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8).tobytes()


@dataclass(frozen=True)
class Projection:
    """A fitted 2-D PCA: place(points) = (points - mean) @ axes. `axes` are PCA's two
    principal directions, turned (rotated or reflected, never stretched) to line up with the
    map it was aligned to; `explained`, the share of the points' variance the plane keeps."""

    mean: np.ndarray  # (d,)
    axes: np.ndarray  # (d, 2)
    explained: float

    def place(self, points) -> np.ndarray:
        """(B, d) -> (B, 2): where these points land on the map (a new digit too)."""
        return (np.asarray(points, dtype=np.float64) - self.mean) @ self.axes


def check_points(points) -> np.ndarray:
    """(B, d) finite numbers as float64, or a ValueError that says what is wrong."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or len(points) < 2:
        raise ValueError(f"a map needs 2 or more points, each a row: got shape {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("the points are not all finite numbers (did the training diverge?)")
    return points


def fit_pca(points, previous=None) -> Projection:
    """The 2-D PCA of points (B, d). With `previous`, the map of the same B rows drawn last
    (B, 2), the two axes are turned to match it as closely as they can (orthogonal
    Procrustes: the rotation or reflection R minimising |points_2d @ R - previous|), so
    that the picture does not flip or spin from one epoch to the next when the layer did
    not change much. Points that do not spread at all map to (0, 0)."""
    from scipy.linalg import orthogonal_procrustes
    from sklearn.decomposition import PCA

    points = check_points(points)
    mean = points.mean(axis=0)  # (d,)
    total = float(np.square(points - mean).sum())
    axes = np.zeros((points.shape[1], 2))  # (d, 2)
    explained = 0.0
    if total > 1e-12 * max(1.0, float(np.square(points).sum())):
        # randomized: 10x faster than the full SVD on 1,000 x 784, the same plane to 1e-6,
        # and the same numbers every time (random_state); at most as many axes as the data has
        pca = PCA(n_components=min(2, *points.shape), svd_solver="randomized", random_state=0)
        pca.fit(points)
        axes[:, : pca.n_components_] = pca.components_.T
        explained = float(pca.explained_variance_ratio_.sum())
    if previous is not None:
        previous = check_points(previous)
        if previous.shape != (len(points), 2):
            raise ValueError(
                f"previous must be the last map of the same {len(points)} rows, shape "
                f"({len(points)}, 2); got {previous.shape}"
            )
        turn, _ = orthogonal_procrustes((points - mean) @ axes, previous - previous.mean(axis=0))
        axes = axes @ turn  # (d, 2) @ (2, 2): an orthogonal turn keeps every distance
    return Projection(mean, axes, explained)


def project_pca(points, previous=None) -> np.ndarray:
    """(B, d) -> (B, 2): the points' 2-D PCA, aligned to `previous` when given (fit_pca)."""
    return fit_pca(points, previous).place(points)


def project_tsne(points, seed: int = 0) -> np.ndarray:
    """(B, d) -> (B, 2): t-SNE (scikit-learn), started from the PCA map, the same picture
    for the same points and seed. Slow (seconds for 1,000 points): the report's, not the
    live page's. Near neighbours stay near; distances between clusters mean nothing."""
    from sklearn.manifold import TSNE

    points = check_points(points)
    perplexity = float(np.clip((len(points) - 1) / 3, 1, 30))  # fewer neighbours than points
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        learning_rate="auto",
        random_state=seed,
    )
    return tsne.fit_transform(points)


class MapSeries:
    """The maps of one sample of rows as a network learns, each aligned to the one before,
    layer by layer; the latest Projection of each layer is kept to place new points."""

    def __init__(self) -> None:
        self.projections: dict[str, Projection] = {}
        self.maps: dict[str, np.ndarray] = {}  # layer -> (B, 2), the latest map

    def update(self, points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The new maps (layer -> (B, 2)) of these activations (layer_points), each aligned to
        that layer's previous map, which they replace."""
        for name, layer_points_ in points.items():
            projection = fit_pca(layer_points_, self.maps.get(name))
            self.projections[name] = projection
            self.maps[name] = projection.place(layer_points_)
        return dict(self.maps)

    def place(self, points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """New rows' activations (layer_points) -> where they land on each latest map, (n, 2)."""
        return {name: self.projections[name].place(p) for name, p in points.items()}
