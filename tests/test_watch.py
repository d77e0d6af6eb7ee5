"""The live training page (use_network.py watch, src/watch_training.py, src/watch/)."""

import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import NN_Numpy as nn
import watch_training as wt

CONFIG = nn.TrainConfig(epochs=50, batch_size=100, schedule="constant", seed=0)


def train_with(watch, network, split, config=CONFIG):
    """The training loop of NN_Numpy.train with the watch as its hook."""
    import sys

    sys.path.insert(0, "/tmp/watchdev")
    import dev

    X_train, y_train, X_val, y_val = split
    return dev.train(network, X_train, y_train, X_val, y_val, config, watch)


@pytest.fixture
def run(small_split):
    """A watched training of 4,000 rows (40 batches an epoch) started in a thread; yields
    (watch, network, thread). The training is stopped at the end if it still runs."""
    network = nn.NeuralNetwork(seed=0)
    X_train, y_train, X_val, y_val = small_split
    watch = wt.TrainingWatch(network, CONFIG, len(y_train), X_val, y_val, interval=0)
    outcome = {}

    def target():
        with threadpool_limits(1):
            try:
                outcome["history"] = train_with(watch, network, small_split)
            except wt.StopTraining:
                outcome["stopped"] = True
        watch.finish()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    yield watch, network, outcome
    if thread.is_alive():
        watch.control({"action": "stop"})
    thread.join(30)


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def held(watch):
    with watch.lock:
        return watch.holding


def test_pause_holds_and_resume_goes_on(run):
    watch, _, _ = run
    wait_until(lambda: watch.state()["batches_done"] >= 3)
    state = watch.control({"action": "pause"})
    assert state["paused"] is True
    wait_until(lambda: held(watch))
    batches = watch.state()["batches_done"]
    time.sleep(0.3)
    assert watch.state()["batches_done"] == batches
    assert watch.control({"action": "resume"})["paused"] is False
    wait_until(lambda: watch.state()["batches_done"] > batches)


def test_a_step_is_one_batch_and_an_epoch_runs_to_its_end(run):
    watch, _, _ = run
    watch.control({"action": "pause"})
    wait_until(lambda: held(watch))
    for _ in range(3):
        batches = watch.state()["batches_done"]
        watch.control({"action": "step"})
        wait_until(lambda b=batches: held(watch) and watch.state()["batches_done"] > b)
        time.sleep(0.05)
        assert watch.state()["batches_done"] == batches + 1
    epoch = watch.state()["epoch"]
    watch.control({"action": "epoch"})
    wait_until(lambda: held(watch) and watch.state()["epoch"] > epoch)
    time.sleep(0.05)
    state = watch.state()
    assert state["epoch"] == epoch + 1
    assert state["batches_done"] == (epoch + 1) * 40 == state["batches_per_epoch"] * state["epoch"]
    assert state["paused"] and len(state["history"]) == epoch + 1
    # 'epoch' again from an epoch's end: the whole next epoch
    watch.control({"action": "epoch"})
    wait_until(lambda: held(watch) and watch.state()["epoch"] > epoch + 1)
    assert watch.state()["batches_done"] == (epoch + 2) * 40


def test_stop_ends_the_training_at_once(run):
    watch, _, outcome = run
    wait_until(lambda: watch.state()["batches_done"] >= 3)
    watch.control({"action": "pause"})
    wait_until(lambda: held(watch))
    state = watch.control({"action": "stop"})
    assert state["stopping"] is True
    wait_until(lambda: watch.state()["finished"])
    assert outcome == {"stopped": True}
    assert [c["action"] for c in watch.state()["changes"]] == ["pause", "stop"]


@pytest.mark.parametrize(
    "request_, error",
    [
        ([], 'send one JSON object with one key: {"action": ...} or {"learning_rate": ...}'),
        ({}, 'send one JSON object with one key: {"action": ...} or {"learning_rate": ...}'),
        ({"action": "pause", "learning_rate": 1}, "send one JSON object with one key: "),
        ({"speed": 2}, "unknown key 'speed'; use 'action' or 'learning_rate'"),
        ({"action": "jump"}, "unknown action 'jump'; use one of pause, resume, step, epoch, stop"),
        ({"action": ["pause"]}, "unknown action ['pause']; use one of "),
        ({"learning_rate": "0.1"}, "learning_rate must be a number, got '0.1'"),
        ({"learning_rate": True}, "learning_rate must be a number, got True"),
        ({"learning_rate": None}, "learning_rate must be a number, got None"),
        ({"learning_rate": 0}, "learning_rate must be a finite number > 0, got 0.0"),
        ({"learning_rate": -0.1}, "learning_rate must be a finite number > 0, got -0.1"),
        ({"learning_rate": float("nan")}, "learning_rate must be a finite number > 0, got nan"),
        ({"learning_rate": float("inf")}, "learning_rate must be a finite number > 0, got inf"),
        ({"learning_rate": 10**400}, "learning_rate must be a finite number > 0, got inf"),
    ],
)
def test_bad_controls_are_refused_naming_the_problem(small_split, request_, error):
    network = nn.NeuralNetwork(seed=0)
    X_val, y_val = small_split[2], small_split[3]
    watch = wt.TrainingWatch(network, CONFIG, 4000, X_val, y_val)
    before = watch.state()
    with pytest.raises(wt.ControlError) as info:
        watch.control(request_)
    assert str(info.value).startswith(error)
    assert watch.state() == before


def test_the_first_layer_is_sent_as_bytes():
    weights = np.random.default_rng(0).normal(0, 0.05, (784, 3)).astype(np.float32)
    weights[0, 0], weights[1, 0], weights[:, 1] = 10.0, -10.0, 0.0  # two outliers, a zero unit
    data, scale = wt.first_layer_bytes(weights)
    assert scale == pytest.approx(np.percentile(np.abs(weights), 99.5))
    levels = np.frombuffer(data, np.uint8).reshape(3, 784).astype(int)  # unit after unit
    assert levels[0, 0] == 255 and levels[0, 1] == 1  # beyond the scale: the ends
    assert levels[1].tolist() == [128] * 784  # 0 is 128
    shown = np.clip(weights[:, 2], -scale, scale)  # the rest: within half a level
    np.testing.assert_allclose((levels[2] - 128) * scale / 127, shown, atol=scale / 254 * 1.001)


def test_decimated_stays_bounded_and_spread_over_the_run():
    points = wt.Decimated(10)
    for i in range(1000):
        points.add(i)
    assert 5 <= len(points.points) <= 10
    assert points.points[0] == 0 and points.points[-1] >= 1000 - 2 * points.stride
    assert np.all(np.diff(points.points) == points.stride)
