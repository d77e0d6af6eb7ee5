"""The watch page's points map, live: MAP_SIZE validation digits placed by what each layer
makes of them (src/using/points_map.py), recomputed once an epoch for GET /points, and a
drawing placed on it for POST /points. TrainingWatch (watch_training.py) hands LiveMap a copy
of the network at each epoch's end; the server's threads do the rest.
"""

from __future__ import annotations

import copy
import threading
from http import HTTPStatus
from urllib.parse import parse_qsl

import numpy as np

import NN_Numpy as nn
from pages import draw_server
from pages.page_server import RequestError
from using import points_map


class LiveMap:
    """The page's points map (src/using/points_map.py): MAP_SIZE validation digits placed by
    each layer's activations, by PCA, once an epoch, each map aligned to the one before it.

    The training thread only hands it a copy of the network at each epoch's end (0.2 ms);
    the projection is computed by the first server thread that asks for it after that (the
    forward pass of the digits and a PCA per layer), outside the training's lock: no page,
    no cost. The maps of an epoch the page did not look at are skipped, so a map is aligned
    to the last one computed. Thread-safe: `lock` guards what the training thread hands
    over; `work` lets one server thread at a time run the map's network and projections."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.work = threading.Lock()
        self.network: nn.NeuralNetwork | None = None  # a copy, at the end of epoch `epoch`
        self.epoch = 0
        self.X_val = self.y_val = None
        self.seed = 0
        # Below: only with `work` held
        self.images: np.ndarray | None = None  # (MAP_SIZE, 784): the sample, chosen once
        self.labels: np.ndarray | None = None
        self.series = points_map.MapSeries()
        self.computed: dict | None = None  # the maps of one epoch (answer()), and its network
        self.computed_network: nn.NeuralNetwork | None = None

    def network_changed(self, network, epoch: int, X_val=None, y_val=None, seed=None) -> None:
        """In the training thread: the network at the end of `epoch` (0: at the start; then
        with the validation rows, None when there are none, and the run's seed)."""
        network = copy.deepcopy(network)  # 0.2 ms; the server runs this copy, never the original
        with self.lock:
            self.network, self.epoch = network, epoch
            if seed is not None:
                self.X_val, self.y_val, self.seed = X_val, y_val, seed

    def layers(self) -> list[str]:
        with self.lock:
            if self.network is None:
                raise RequestError(
                    HTTPStatus.SERVICE_UNAVAILABLE, "the training has not started yet"
                )
            return points_map.layer_names(self.network)

    def maps(self) -> dict:
        """The latest epoch's maps of every layer, computed once an epoch (with `work` held)."""
        with self.lock:
            network, epoch, X_val, y_val = self.network, self.epoch, self.X_val, self.y_val
        if self.computed is not None and self.computed["epoch"] == epoch:
            return self.computed
        names = points_map.layer_names(network)
        maps = {"epoch": epoch, "layers": names, "message": "", "maps": {}}
        if X_val is None:
            maps["message"] = "no validation digits (--train-on-all): no map"
            self.computed, self.computed_network = maps, network
            return maps
        if self.images is None:
            rows = points_map.map_sample(y_val, seed=self.seed)
            self.images, self.labels = X_val[rows], y_val[rows]
        with np.errstate(all="ignore"):  # a diverged network's infinities: said below
            points = points_map.layer_points(network, self.images)
        if "pixels" in self.series.maps:  # the pixels' map never changes: fitted once
            del points["pixels"]
        try:
            xy = self.series.update(points)
        except ValueError as error:  # activations not finite: the run diverged
            maps["message"] = f"no map: {error}"
            self.computed, self.computed_network = maps, network
            return maps
        predicted, probability = points_map.answers(points["output"])
        maps["predicted"] = predicted.tolist()
        top = probability.astype(float)  # float32: 0.98000001907
        maps["probability"] = np.round(top, 3).tolist()
        for name in names:
            maps["maps"][name] = {
                "size": points_map.layer_sizes(network)[name],
                "points": np.round(xy[name], 3).tolist(),
                "explained": round(self.series.projections[name].explained, 4),
            }
        self.computed, self.computed_network = maps, network
        return maps

    def answer(self, layer: str) -> dict:
        """GET /points?layer=...: the map of one layer, as JSON."""
        names = self.layers()
        if layer not in names:
            raise RequestError(HTTPStatus.BAD_REQUEST, layer_problem(layer, names))
        with self.work:
            maps = self.maps()
            labels = [] if self.labels is None else self.labels.tolist()
        answer = {
            "layer": layer,
            "layers": maps["layers"],
            "epoch": maps["epoch"],
            "message": maps["message"],
            "labels": labels,
            "size": None,
            "points": [],
            "explained": None,
            "predicted": [],
            "probability": [],
        }
        if layer in maps["maps"]:
            answer.update(maps["maps"][layer], predicted=maps["predicted"])
            answer["probability"] = maps["probability"]
        return answer

    def image_bytes(self) -> bytes:
        """GET /points/images: the map's digits, 784 bytes each, in the order of its points."""
        self.layers()  # 503 before the training starts
        with self.work:
            self.maps()
            return b"" if self.images is None else points_map.image_bytes(self.images)

    def place(self, body: bytes) -> dict:
        """POST /points: where a drawing (the pad's image, as POST /predict takes it) lands on
        each layer's latest map, by the network and the PCA of that map."""
        self.layers()  # 503 before the training starts
        with self.work:
            maps = self.maps()
            placed = {"epoch": maps["epoch"], "digit": None, "probability": 0.0, "points": None}
            if not maps["maps"]:  # no map to place it on (see its message)
                return placed
            network = self.computed_network
            answer = draw_server.answer_image(network, 0.0, body)  # 400 for a bad image
            if answer["probabilities"] is None:  # a blank pad
                return placed
            placed["digit"] = answer["best_guess"]
            placed["probability"] = round(answer["confidence"], 3)
            image = np.asarray(answer["image"], dtype=network.dtype)[np.newaxis]  # (1, 784)
            where = self.series.place(points_map.layer_points(network, image))
        placed["points"] = {name: np.round(xy[0], 3).tolist() for name, xy in where.items()}
        return placed


def layer_problem(layer: str, names: list[str]) -> str:
    shown = layer if len(layer) <= 40 else layer[:40] + "..."
    return f"unknown layer {shown!r}; use one of {', '.join(names)} (e.g. /points?layer=hidden%202)"


def points_layer(query: str) -> str:
    """The layer named by GET /points' query, ?layer=NAME (spaces as %20 or +), or a 400."""
    usage = "/points takes only ?layer=NAME (e.g. ?layer=hidden%202)"
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, max_num_fields=1)
    except ValueError:
        raise RequestError(HTTPStatus.BAD_REQUEST, usage) from None
    if len(pairs) != 1 or pairs[0][0] != "layer":
        raise RequestError(HTTPStatus.BAD_REQUEST, usage)
    return pairs[0][1]
