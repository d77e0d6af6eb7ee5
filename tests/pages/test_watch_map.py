"""The watch page's live points map (src/pages/watch_map.py); over HTTP and in the browser:
tests/pages/test_watch_training.py."""

import numpy as np
from conftest import canvas_png

import NN_Numpy as nn
from pages import watch_map


def test_no_map_without_validation_digits_or_with_a_diverged_network():
    live_map = watch_map.LiveMap()
    network = nn.NeuralNetwork(seed=0)
    live_map.network_changed(network, 0, None, None, seed=0)  # --train-on-all
    answer = live_map.answer("output")
    assert answer["points"] == [] and "no validation digits" in answer["message"]
    assert live_map.image_bytes() == b""
    assert live_map.place(canvas_png(np.full((28, 28), 255, np.uint8)))["points"] is None

    live_map = watch_map.LiveMap()
    images = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    live_map.network_changed(network, 0, images, np.arange(50) % 10, seed=0)
    assert len(live_map.answer("hidden 1")["points"]) == 50
    network.layers[1].weights[:] = np.inf  # a run that diverged
    live_map.network_changed(network, 1)
    answer = live_map.answer("hidden 2")
    assert answer["epoch"] == 1 and answer["points"] == []
    assert (
        answer["message"]
        == "no map: the points are not all finite numbers (did the training diverge?)"
    )
