"""src/pages/watch_training.py and src/pages/watch/: the live-training page."""

import contextlib
import json
import re
import threading
import time

import numpy as np
import pytest
from conftest import StalledFlood, canvas_png, get_json, request, wait_until
from threadpoolctl import threadpool_limits

import NN_Numpy as nn
from pages import draw_server
from pages import watch_training as wt
from using import points_map

POLL = 0.05  # how often serve_forever checks for shutdown(): by default 0.5 s, waited per test
CONFIG = nn.TrainConfig(epochs=50, batch_size=100, schedule="constant", negatives=0.0, seed=0)


@pytest.fixture
def run(small_split):
    """A watched training of 4,000 rows (40 batches an epoch) started in a thread; yields
    (watch, network, outcome). The training is stopped at the end if it still runs."""
    network = nn.NeuralNetwork(seed=0)
    watch = wt.TrainingWatch(CONFIG, interval=0)
    outcome = {}

    def target():
        with threadpool_limits(1):
            outcome["history"] = nn.train(network, *small_split, CONFIG, lambda line: None, watch)
        watch.finish("done")

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    yield watch, network, outcome
    if thread.is_alive():
        watch.control({"action": "stop"})
    thread.join(30)


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
    assert len(outcome["history"]) == 0
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
def test_bad_controls_are_refused_naming_the_problem(request_, error):
    watch = wt.TrainingWatch(CONFIG)
    before = watch.state()
    with pytest.raises(wt.ControlError) as info:
        watch.control(request_)
    assert str(info.value).startswith(error)
    assert watch.state() == before


def test_a_huge_control_is_quoted_in_about_100_characters(served):
    # Issue #29, item 7: a 1.9 MB action came back whole in the 400 reply
    port, _ = served
    cut = "'" + "a" * 47 + "..." + "a" * 48 + "'"  # 100 characters
    for body, error in [
        (json.dumps({"action": "a" * 1_900_000}), f"unknown action {cut}; use one of "),
        (json.dumps({"a" * 1_900_000: 1}), f"unknown key {cut}; use 'action' or "),
        (
            json.dumps({"learning_rate": "a" * 1_900_000}),
            f"learning_rate must be a number, got {cut}",
        ),
        (
            json.dumps({"learning_rate": [[["a"]]] * 100_000}),
            "learning_rate must be a number, got [[['a']], [['a']],",
        ),
    ]:
        status, _, reply = request(port, "POST", "/control", body.encode())
        assert status == 400 and len(reply) < 300
        assert json.loads(reply)["error"].startswith(error)


def test_the_control_log_keeps_the_latest_200_and_counts_the_rest():
    # Issue #29, item 4: 5,000 pause posts made /state 316 kB a poll, all in the record
    watch = wt.TrainingWatch(CONFIG)
    for _ in range(5000):
        watch.control({"action": "pause"})
    watch.control({"action": "resume"})
    state = watch.state()
    assert len(state["changes"]) == 200 and state["changes_dropped"] == 4801
    assert state["changes"][-1]["action"] == "resume"
    assert len(json.dumps(state)) < 20_000
    record = watch.record()
    assert len(record["controls"]) == 200 and record["controls_dropped"] == 4801


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


def test_bin_counts_are_numpys_histogram_with_the_ends_kept():
    values = np.random.default_rng(0).normal(0, 1, (784, 128)).astype(np.float32)
    edges = np.linspace(-2.5, 2.5, 42)
    expected = np.histogram(np.clip(values, -2.5, 2.5), edges)[0].tolist()
    assert wt.bin_counts(values, 2.5) == expected and sum(expected) == values.size


def test_decimated_stays_bounded_and_spread_over_the_run():
    points = wt.Decimated(10)
    for i in range(1000):
        points.add(i)
    assert 5 <= len(points.points) <= 10
    assert points.points[0] == 0 and points.points[-1] >= 1000 - 2 * points.stride
    assert np.all(np.diff(points.points) == points.stride)


def test_a_new_learning_rate_applies_from_the_next_batch_and_the_schedule_goes_on(small_split):
    config = nn.TrainConfig(epochs=4, batch_size=100, negatives=0.0, seed=0)  # cosine
    network = nn.NeuralNetwork(seed=0)
    rates = []  # the optimizer's rate at every step, as the hook sees it

    class Spy(wt.TrainingWatch):
        def batch_done(self, images, labels, loss, network, optimizer):
            rates.append(optimizer.learning_rate)
            super().batch_done(images, labels, loss, network, optimizer)

    watch = Spy(config, interval=0)
    watch.control({"action": "epoch"})  # pause at the end of epoch 1
    thread = threading.Thread(
        target=lambda: nn.train(network, *small_split, config, lambda line: None, watch)
    )
    thread.start()
    wait_until(lambda: held(watch))
    state = watch.control({"learning_rate": 0.02})
    assert state["learning_rate"] == 0.02
    watch.control({"action": "step"})
    wait_until(lambda: held(watch) and len(rates) == 41)
    # Set at the end of epoch 1: epoch 2 goes on along the cosine from it
    assert rates[39] == 0.1
    assert rates[40] == pytest.approx(0.02 * nn.learning_rate_at(1, config) / 0.1)
    watch.control({"learning_rate": 0.01})  # mid-epoch: from the next batch on
    watch.control({"action": "resume"})
    thread.join(30)
    history = watch.state()["history"]
    assert rates[41:80] == [0.01] * 39
    # Epochs 3 and 4 follow the cosine from the new rate: scaled by 0.01 / epoch 2's own rate
    scale = 0.01 / nn.learning_rate_at(1, config)
    assert history[2]["learning_rate"] == pytest.approx(nn.learning_rate_at(2, config) * scale)
    assert history[3]["learning_rate"] == pytest.approx(nn.learning_rate_at(3, config) * scale)
    changes = watch.state()["changes"]
    assert [c.get("learning_rate", c.get("action")) for c in changes] == [
        "epoch",
        0.02,
        "step",
        0.01,
        "resume",
    ]
    assert changes[1]["epoch"] == 1 and changes[1]["batches_done"] == 40
    assert changes[3]["batches_done"] == 41


def test_health_numbers_are_measured_on_the_batch(small_split):
    config = nn.TrainConfig(epochs=1, batch_size=100, negatives=0.0)
    seen = {}

    class Spy(wt.TrainingWatch):
        def batch_done(self, images, labels, loss, network, optimizer):
            seen["optimizer"] = optimizer
            outputs = [layer.output for layer in network.layers[:2]]  # (B, 128), (B, 64)
            seen["dead"] = [(output.max(axis=0) <= 0).mean() for output in outputs]
            super().batch_done(images, labels, loss, network, optimizer)

    network = nn.NeuralNetwork(seed=0)
    watch = Spy(config, interval=0)
    nn.train(network, *small_split, config, lambda line: None, watch)
    samples = watch.state()["health"]
    # interval 0: a snapshot after every batch, and each next batch measured against it
    assert [sample["batch"] for sample in samples] == list(range(2, 41))
    last = samples[-1]
    gradients = [np.sqrt(np.mean(layer.grad_weights**2)) for layer in network.layers]
    assert last["gradient"] == pytest.approx(gradients, rel=1e-5)
    assert last["dead"] == pytest.approx(seen["dead"]) and max(seen["dead"]) > 0
    # SGD's last step was learning_rate * velocity: |step| / |weights before it|
    optimizer = seen["optimizer"]
    steps = [optimizer.learning_rate * v for v in optimizer.velocities[::2]]  # weights, no biases
    ratios = [
        np.linalg.norm(step) / np.linalg.norm(layer.weights + step)
        for layer, step in zip(network.layers, steps)
    ]
    assert last["update_ratio"] == pytest.approx(ratios, rel=1e-4)


# ---------------------------------------------------------------------------
# The page's API, served while a training runs
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def serving(split):
    """A long watched training in a thread and its page on a free port: (port, watch).
    Stopped at the end."""
    config = nn.TrainConfig(epochs=500, batch_size=100, seed=0)
    network = nn.NeuralNetwork(seed=0)
    watch = wt.TrainingWatch(config, interval=0.05)
    server = wt.WatchServer(("127.0.0.1", 0), watch, request_timeout=2)
    threading.Thread(target=server.serve_forever, args=[POLL], daemon=True).start()

    def target():
        with threadpool_limits(1):
            nn.train(network, *split, config, lambda line: None, watch)
        watch.finish("done")

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    wait_until(lambda: watch.state()["epoch"] >= 1)
    try:
        yield server.server_address[1], watch
    finally:
        with contextlib.suppress(wt.ControlError):
            watch.control({"action": "stop"})
        thread.join(30)
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def served(small_split):
    """One training and page for the tests that leave it running."""
    with serving(small_split) as port_and_watch:
        yield port_and_watch


@pytest.fixture
def served_alone(small_split):
    """A training and page of the test's own, for the tests that pause or stop it."""
    with serving(small_split) as port_and_watch:
        yield port_and_watch


def test_state_has_the_documented_fields(served):
    port, _ = served
    status, state = get_json(port, "/state")
    assert status == 200
    assert {"epoch", "epochs", "batches_done", "paused", "finished", "learning_rate"} <= set(state)
    assert state["epochs"] == 500 and state["epoch"] >= 1 and state["batches_done"] >= 40
    assert state["paused"] is False and state["finished"] is False
    assert state["learning_rate"] == pytest.approx(0.1, rel=0.01)
    first = state["history"][0]
    assert set(first) == {"epoch", "loss", "val_loss", "val_accuracy", "learning_rate", "seconds"}
    assert first["epoch"] == 1 and 0 < first["val_accuracy"] <= 1
    # ?since=N: only the curves' points after batch N
    _, later = get_json(port, f"/state?since={state['batches_done']}")
    assert all(batch > state["batches_done"] for batch, _ in later["loss_curve"])
    assert len(later["history"]) >= len(state["history"])


def test_controls_over_http(served_alone):
    port, watch = served_alone
    status, state = get_json(port, "/control", "POST", b'{"action": "pause"}')
    assert status == 200 and state["paused"] is True
    wait_until(lambda: held(watch))
    batches = watch.state()["batches_done"]
    status, state = get_json(port, "/control", "POST", b'{"learning_rate": 0.05}')
    assert status == 200 and state["learning_rate"] == 0.05
    assert get_json(port, "/state")[1]["learning_rate"] == 0.05
    status, state = get_json(port, "/control", "POST", b'{"action": "step"}')
    wait_until(lambda: held(watch) and watch.state()["batches_done"] == batches + 1)
    status, state = get_json(port, "/control", "POST", b'{"action": "stop"}')
    assert status == 200 and state["stopping"] is True
    wait_until(lambda: watch.state()["finished"])


def test_the_weights_and_the_batch_come_as_bytes(served, small_split):
    port, watch = served
    status, headers, body = request(port, "GET", "/weights")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert len(body) == 128 * 784 and headers["X-Units"] == "128"
    assert float(headers["X-Scale"]) > 0
    status, headers, body = request(port, "GET", "/batch")
    labels = [int(label) for label in headers["X-Labels"].split(",")]
    assert status == 200 and len(body) == 16 * 784 and len(labels) == 16
    assert set(labels) <= set(range(10)) | {nn.NOT_A_DIGIT}  # a made-up non-digit: -1
    status, panel = get_json(port, "/panel")
    assert len(panel["images"]) == len(panel["labels"]) == 30
    assert panel["labels"] == sorted(panel["labels"])  # 3 of each digit
    X_val, y_val = small_split[2], small_split[3]
    row = int(np.flatnonzero(y_val == 0)[0])
    assert panel["images"][0] == np.rint(X_val[row] * 255).astype(int).tolist()


def test_the_drawing_pad_asks_the_network_as_it_is_now(served_alone, mnist):
    port, watch = served_alone
    get_json(port, "/control", "POST", b'{"action": "pause"}')
    wait_until(lambda: held(watch))
    network = watch.drawing_network()  # a copy of the training network, as it is paused
    pixels, labels = mnist
    right = 0
    for image, label in zip(pixels[-10:], labels[-10:]):
        png = canvas_png(image)
        status, answer = get_json(port, "/predict", "POST", png)
        assert status == 200
        assert answer == draw_server.answer_image(network, 0.0, png)  # 0: never "not sure"
        right += answer["best_guess"] == label
    assert right >= 5  # after an epoch or more on 4,000 rows
    get_json(port, "/control", "POST", b'{"action": "step"}')
    wait_until(lambda: held(watch) and watch.drawing_network() is not network)  # a new copy


@pytest.mark.parametrize(
    "method, path, body, status, error",
    [
        ("POST", "/control", b"pause", 400, "the body is not JSON"),
        ("POST", "/control", b"[1]", 400, "the body must be a JSON object {...}"),
        ("POST", "/control", b'{"action": "fly"}', 400, "unknown action 'fly'; use one of"),
        ("POST", "/control", b'{"learning_rate": -1}', 400, "learning_rate must be a finite"),
        ("POST", "/control", b'{"learning_rate": 1e999}', 400, "learning_rate must be a finite"),
        ("POST", "/control", b'{"learning_rate": NaN}', 400, "learning_rate must be a finite"),
        ("POST", "/control", b"\xff\xfe", 400, "the body is not JSON"),
        ("POST", "/control", b"[" * 100_000, 400, "the body is not JSON"),
        ("POST", "/control", None, 400, "empty body"),
        ("GET", "/control", None, 405, "GET not allowed here; use POST"),
        ("POST", "/state", b"{}", 405, "POST not allowed here; use GET"),
        ("DELETE", "/weights", None, 405, "DELETE not allowed here; use GET"),
        ("GET", "/state?since=-1", None, 400, "/state takes only ?since=N, N a batch"),
        ("GET", "/state?since=1&x=2", None, 400, "/state takes only ?since=N, N a batch"),
        ("GET", "/weights?x", None, 404, "no such page"),
        ("GET", "/../NN_Numpy.py", None, 404, "no such page"),
        ("GET", "/watch/index.html", None, 404, "no such page"),
        ("POST", "/predict", b"not an image", 400, "not an image"),
        (
            "GET",
            "/points?layer=x",
            None,
            400,
            "unknown layer 'x'; use one of pixels, hidden 1, hidden 2,",
        ),
        (
            "GET",
            "/points?layer=hidden%203",
            None,
            400,
            "unknown layer 'hidden 3'; use one of pixels,",
        ),
        (
            "GET",
            "/points?layer=" + "y" * 5000,
            None,
            400,
            "unknown layer 'yyyyyyyyyyyyyyyyyyyyyyyyyy",
        ),
        ("GET", "/points?lay=output", None, 400, "/points takes only ?layer=NAME"),
        ("GET", "/points?layer=output&layer=pixels", None, 400, "/points takes only ?layer=NAME"),
        ("GET", "/points?layer", None, 400, "/points takes only ?layer=NAME"),
        ("GET", "/points?&", None, 400, "/points takes only ?layer=NAME"),
        ("GET", "/points/images?x", None, 404, "no such page"),
        ("POST", "/points", b"not an image", 400, "not an image"),
        ("POST", "/points", None, 400, "empty body"),
        ("DELETE", "/points", None, 405, "DELETE not allowed here; use GET, POST"),
    ],
)
def test_hostile_requests_get_4xx_json_and_the_training_goes_on(
    served, method, path, body, status, error
):
    port, watch = served
    before = watch.state()["batches_done"]
    got, _, reply = request(port, method, path, body)
    assert got == status
    assert json.loads(reply)["error"].startswith(error)
    wait_until(lambda: watch.state()["batches_done"] > before)
    assert watch.state()["paused"] is False


def test_under_a_flood_of_stalled_connections_the_page_answers_and_the_training_goes_on(served):
    # Issue #29, item 9, on the live page: 320 half-sent requests held open (the old server
    # had 32 workers and 256 queue places for them) and a poll is still answered at once.
    port, watch = served
    before = watch.state()["batches_done"]
    waits = []
    with StalledFlood(port, "/control", keep=16) as flood:
        time.sleep(0.5)
        for _ in range(5):
            start = time.perf_counter()
            status, _, reply = request(port, "GET", "/state")
            assert status == 200, reply[:200]
            waits.append(time.perf_counter() - start)
            time.sleep(0.1)
    assert flood.opened > 320 and max(waits) < 2.0
    assert watch.state()["batches_done"] > before


def strict_json(reply: bytes):
    """JSON as a browser's JSON.parse reads it: NaN and Infinity are not JSON."""
    return json.loads(reply, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))


def test_a_huge_finite_rate_diverges_and_the_page_still_answers_and_says_so(served_alone, mnist):
    port, watch = served_alone
    get_json(port, "/control", "POST", b'{"action": "pause"}')
    wait_until(lambda: held(watch))
    batch, epoch = watch.state()["batches_done"], watch.state()["epoch"]
    status, _ = get_json(port, "/control", "POST", b'{"learning_rate": 1e308}')
    assert status == 200  # finite and > 0: the rule --learning-rate obeys too
    get_json(port, "/control", "POST", b'{"action": "step"}')
    wait_until(lambda: held(watch) and watch.state()["batches_done"] == batch + 1)
    said = (
        f"the training diverged at batch {batch + 1:,} (epoch {epoch + 1}) with learning rate "
        f"1e+308: the weights overflowed; stop saves the last finite snapshot, from batch "
        f"{batch:,}"
    )
    for path in ("/state", f"/state?since={batch}"):
        status, _, reply = request(port, "GET", path)
        assert status == 200 and strict_json(reply)["message"] == said
    assert request(port, "GET", "/weights")[0] == 200
    status, _, reply = request(port, "POST", "/predict", canvas_png(mnist[0][0]))
    assert status == 200 and strict_json(reply)["best_guess"] in range(10)
    for control in (b'{"action": "resume"}', b'{"action": "step"}', b'{"learning_rate": 0.01}'):
        status, _, reply = request(port, "POST", "/control", control)
        assert (status, strict_json(reply)) == (409, {"error": f"{said}; only stop is possible"})
    status, _, reply = request(port, "POST", "/control", b'{"action": "stop"}')
    assert status == 200 and strict_json(reply)["stopping"] is True
    wait_until(lambda: watch.state()["finished"])
    kept = watch.drawing_network()
    assert all(np.isfinite(p).all() for p in kept.parameters())


def test_a_divergence_between_snapshots_holds_the_run_and_stop_returns_the_last_finite_one(
    small_split,
):
    config = nn.TrainConfig(epochs=3, batch_size=100, learning_rate=1e4, seed=0)
    network = nn.NeuralNetwork(seed=0)
    watch = wt.TrainingWatch(config, interval=3600)  # snapshots: the first batch, then
    outcome = {}

    def target():
        outcome["history"] = nn.train(network, *small_split, config, lambda line: None, watch)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    wait_until(lambda: held(watch))
    assert watch.state()["message"] == (
        "the training diverged at batch 5 (epoch 1) with learning rate 10000: the loss became "
        "not finite; no epoch has finished, so stop saves no model"
    )
    watch.control({"action": "stop"})
    thread.join(30)
    assert outcome["history"] == []  # train() returned: stopped, not an exception
    assert watch.snapshot_batch == 4  # taken at the divergence: still finite, if too big
    for layer, kept in zip(network.layers, watch.drawing_network().layers):
        np.testing.assert_array_equal(layer.weights, kept.weights)
        np.testing.assert_array_equal(layer.bias, kept.bias)


def test_controls_after_the_training_loop_are_refused_with_409(small_split):
    # Issue #29, item 5: a stop sent during the final evaluation got 200, and the page then
    # said "stopped early" and the record listed a control that never took effect
    config = nn.TrainConfig(epochs=1, batch_size=100, negatives=0.0, seed=0)
    watch = wt.TrainingWatch(config)
    nn.train(nn.NeuralNetwork(seed=0), *small_split, config, lambda line: None, watch)
    server = wt.WatchServer(("127.0.0.1", 0), watch)  # the run evaluates and saves, not done
    threading.Thread(target=server.serve_forever, args=[POLL], daemon=True).start()
    port = server.server_address[1]
    try:
        for control, what in [
            (b'{"action": "stop"}', "stop"),
            (b'{"action": "pause"}', "pause"),
            (b'{"learning_rate": 0.01}', "change the learning rate"),
        ]:
            status, answer = get_json(port, "/control", "POST", control)
            assert (status, answer) == (
                409,
                {
                    "error": f"the training has left its loop (evaluating and saving); too late "
                    f"to {what}"
                },
            )
        assert watch.record() == {"controls": []} and watch.state()["stopping"] is False
        assert get_json(port, "/control", "POST", b'{"action": "fly"}')[0] == 400  # still 400
    finally:
        server.shutdown()
        server.server_close()


def test_polls_are_encoded_once_per_state_and_paced(small_split):
    # Issue #29, item 2: 16 clients looping on /state and /weights slowed the training 18x
    # (benchmarks/bench_watch.py --pollers 16 measures it)
    watch = wt.TrainingWatch(CONFIG)
    first = watch.state_json()
    assert watch.state_json() is first and watch.state_json(since=5) is watch.state_json(5)
    watch.control({"action": "pause"})  # a new state: encoded anew
    assert watch.state_json() is not first and json.loads(watch.state_json())["paused"]
    server = wt.WatchServer(("127.0.0.1", 0), watch)
    threading.Thread(target=server.serve_forever, args=[POLL], daemon=True).start()
    port = server.server_address[1]
    try:
        assert get_json(port, "/state")[1]["paused"] is True
        with server.turns:
            server.next_turn = time.monotonic() + 60  # as if polls were queued for a minute
        for path in ("/state", "/weights", "/batch"):
            status, answer = get_json(port, path)
            assert (status, answer) == (503, {"error": "too many polls; try again shortly"})
        assert get_json(port, "/control", "POST", b'{"action": "resume"}')[0] == 200  # unpaced
    finally:
        server.shutdown()
        server.server_close()


def test_before_the_training_starts(small_split):
    watch = wt.TrainingWatch(CONFIG)
    server = wt.WatchServer(("127.0.0.1", 0), watch)
    threading.Thread(target=server.serve_forever, args=[POLL], daemon=True).start()
    port = server.server_address[1]
    try:
        status, state = get_json(port, "/state")
        assert status == 200 and state["started"] is False and state["message"]
        assert request(port, "GET", "/weights")[0] == 503
        assert get_json(port, "/predict", "POST", canvas_png())[0] == 503
        assert get_json(port, "/panel") == (200, {"images": [], "labels": []})
        not_started = "the training has not started yet"
        for method, path, body in [
            ("GET", "/points", None),
            ("GET", "/points?layer=output", None),
            ("GET", "/points/images", None),
            ("POST", "/points", canvas_png()),
        ]:
            assert get_json(port, path, method, body) == (503, {"error": not_started})
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------
# The points map (issue #27): GET /points?layer=L, GET /points/images, POST /points
# ---------------------------------------------------------------------------


def distances(xy):
    xy = np.asarray(xy)
    return np.linalg.norm(xy[:, None] - xy[None], axis=2)


def test_the_points_map_over_http(served_alone, small_split):
    port, watch = served_alone
    get_json(port, "/control", "POST", b'{"action": "pause"}')
    wait_until(lambda: held(watch))
    X_val, y_val = small_split[2], small_split[3]
    rows = points_map.map_sample(y_val, seed=0)  # all 1,000 validation rows: no more than that
    status, headers, body = request(port, "GET", "/points/images")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert body == points_map.image_bytes(X_val[rows])
    network = watch.live_map.network  # the copy taken at the end of the latest epoch
    assert network is not None and network.layers[0] is not watch.network_copy.layers[0]
    activations = points_map.layer_points(network, X_val[rows])
    probs = network.predict_proba(X_val[rows])
    for layer in points_map.LAYERS:
        status, answer = get_json(port, "/points?layer=" + layer.replace(" ", "%20"))
        assert status == 200 and answer["layer"] == layer and answer["message"] == ""
        assert answer["epoch"] == watch.state()["epoch"] >= 1
        assert answer["layers"] == list(points_map.LAYERS)
        assert answer["labels"] == y_val[rows].tolist()
        assert answer["predicted"] == probs.argmax(axis=1).tolist()
        assert np.allclose(answer["probability"], probs.max(axis=1), atol=6e-4)
        assert answer["size"] == activations[layer].shape[1]
        # the layer's PCA, turned (aligned) but not stretched: the same distances between dots
        plain = points_map.project_pca(activations[layer])
        some = np.arange(0, 1000, 7)
        expected = distances(plain[some])
        assert np.allclose(distances(answer["points"])[np.ix_(some, some)], expected, atol=0.01)
        assert answer["explained"] == pytest.approx(
            points_map.fit_pca(activations[layer]).explained, abs=1e-3
        )
    assert get_json(port, "/points")[1]["layer"] == "hidden 2"  # without ?layer=
    assert get_json(port, "/points?layer=hidden+1")[1]["layer"] == "hidden 1"  # + for a space


def test_each_epochs_map_is_aligned_to_the_one_before(served_alone):
    port, watch = served_alone
    get_json(port, "/control", "POST", b'{"action": "pause"}')
    wait_until(lambda: held(watch))
    query = {layer: "/points?layer=" + layer.replace(" ", "+") for layer in points_map.LAYERS}
    before = {layer: get_json(port, query[layer])[1] for layer in points_map.LAYERS}
    epoch = watch.state()["epoch"]
    get_json(port, "/control", "POST", b'{"action": "epoch"}')
    wait_until(lambda: held(watch) and watch.state()["epoch"] > epoch)
    for layer, old in before.items():
        new = get_json(port, query[layer])[1]
        assert new["epoch"] == old["epoch"] + 1
        old_xy, new_xy = np.array(old["points"]), np.array(new["points"])
        if layer == "pixels":  # the pixels do not learn: the same map
            assert np.array_equal(new_xy, old_xy)
            continue
        assert not np.allclose(new_xy, old_xy, atol=0.01)  # the layer changed
        # no flip nor turn of the new map comes closer to the old one (orthogonal Procrustes)
        gap = np.linalg.norm(new_xy - old_xy)
        for flip in [np.diag([-1, 1]), np.diag([1, -1]), -np.eye(2), [[0, 1], [1, 0]]]:
            assert gap <= np.linalg.norm(new_xy @ np.asarray(flip) - old_xy) + 0.01


def test_a_drawing_lands_on_the_map_where_the_network_places_it(served_alone):
    port, watch = served_alone
    get_json(port, "/control", "POST", b'{"action": "pause"}')
    wait_until(lambda: held(watch))
    output = get_json(port, "/points?layer=output")[1]
    xy = np.array(output["points"])
    images = np.frombuffer(request(port, "GET", "/points/images")[2], np.uint8).reshape(-1, 784)
    network = watch.live_map.network
    projection = watch.live_map.series.projections["output"]
    ranks = []
    for dot in range(0, 1000, 100):  # ten of the map's own digits, drawn on the pad's canvas
        png = canvas_png(images[dot])
        status, placed = get_json(port, "/points", "POST", png)
        assert status == 200 and placed["epoch"] == output["epoch"]
        assert set(placed["points"]) == set(points_map.LAYERS)
        seen = np.array(draw_server.answer_image(network, 0.0, png)["image"])[None]  # (1, 784)
        logits = network.predict_logits(seen.astype(network.dtype))
        assert placed["digit"] == logits.argmax()
        # by the map's own network and PCA: where its dots would be if it were one of them
        assert np.allclose(placed["points"]["output"], projection.place(logits)[0], atol=1e-3)
        # and near its own dot (the pad's framing moves it a little): of 1,000, the how-manyth
        gaps = np.linalg.norm(xy - placed["points"]["output"], axis=1)
        ranks.append(int((gaps < gaps[dot]).sum()))
    assert np.median(ranks) < 100, ranks  # by chance: 500
    status, blank = get_json(port, "/points", "POST", canvas_png())
    assert status == 200 and blank["points"] is None and blank["digit"] is None


# ---------------------------------------------------------------------------
# In a real browser: headless Chromium, driven by Selenium (the browser fixture: conftest.py)
# ---------------------------------------------------------------------------

CANVAS_PIXELS = """
    const g = document.getElementById(arguments[0]).getContext('2d');
    const data = g.getImageData(0, 0, g.canvas.width, g.canvas.height).data;
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum = (sum * 31 + data[i]) % 1000000007;
    return sum;
"""


def test_the_page_in_a_real_browser(browser, small_split):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    def page_epoch():
        return int(re.match(r"epoch (\d+) of", status.text)[1])

    wait = WebDriverWait(browser, 20, poll_frequency=0.05)
    with serving(small_split) as (port, watch):
        browser.get(f"http://127.0.0.1:{port}/")
        status = browser.find_element(By.ID, "run-status")
        wait.until(lambda _: "training" in status.text and page_epoch() >= 1)
        # The curves and the first layer's weights change between two epochs
        wait.until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, "#digits figcaption")))
        before = {
            name: browser.execute_script(CANVAS_PIXELS, name) for name in ("loss-chart", "weights")
        }
        epoch = page_epoch()
        wait.until(lambda _: page_epoch() >= epoch + 2)
        for name, pixels in before.items():
            wait.until(lambda _, n=name, p=pixels: browser.execute_script(CANVAS_PIXELS, n) != p)
        captions = browser.find_elements(By.CSS_SELECTOR, "#digits figcaption")
        assert len(captions) == 30
        assert all(re.fullmatch(r"\d \d+%", c.text) for c in captions)
        assert {c.get_attribute("class") for c in captions} <= {"right", "wrong"}
        assert len(browser.find_elements(By.CSS_SELECTOR, "#batch canvas")) == 16

        # Pause: the epoch counter on the page stops
        browser.find_element(By.ID, "pause").click()
        wait.until(lambda _: status.text.endswith("paused"))  # held: no batch under way
        shown = status.text
        assert f"batch {watch.state()['batches_done']:,}:" in shown
        time.sleep(0.5)
        assert status.text == shown and watch.state()["paused"]
        assert browser.find_element(By.ID, "pause").text == "Resume"

        # A rate typed in the page shows in /state; "+1 batch" trains one batch
        rate = browser.find_element(By.ID, "lr")
        rate.clear()
        rate.send_keys("0.0123", Keys.ENTER)
        wait.until(lambda _: watch.state()["learning_rate"] == 0.0123)
        batches = watch.state()["batches_done"]
        browser.find_element(By.ID, "step").click()
        wait.until(lambda _: f"batch {batches + 1:,}:" in status.text)
        assert watch.state()["batches_done"] == batches + 1

        # Past the 200 controls kept, the list says how many earlier ones it let go
        for _ in range(200):
            watch.control({"learning_rate": 0.0123})
        changes = browser.find_element(By.ID, "changes")
        dropped = watch.state()["changes_dropped"]  # the pause, the first rate, ...: 3
        wait.until(lambda _: changes.text.startswith(f"(and {dropped} earlier controls"))
        assert dropped == 3

        # A digit drawn on the pad gets an answer from the network as it is now
        canvas = browser.find_element(By.ID, "canvas")
        answer = browser.find_element(By.ID, "answer")
        stroke = ActionChains(browser, duration=10).move_to_element_with_offset(canvas, 5, -95)
        stroke.click_and_hold()
        for _ in range(19):
            stroke.move_by_offset(-1, 10)
        stroke.release().perform()
        wait.until(lambda _: answer.text != "?")
        assert re.fullmatch(r"\d", answer.text), answer.text

        browser.find_element(By.ID, "pause").click()  # resume
        wait.until(lambda _: status.text.endswith("training"))
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []


COLOURED_PIXELS = """
    const g = document.getElementById(arguments[0]).getContext('2d');
    const data = g.getImageData(0, 0, g.canvas.width, g.canvas.height).data;
    let coloured = 0, star = 0;
    for (let i = 0; i < data.length; i += 4) {
        const [r, gr, b] = [data[i], data[i + 1], data[i + 2]];
        if (data[i + 3] > 200 && Math.max(r, gr, b) - Math.min(r, gr, b) > 60) coloured++;
        if (r > 240 && gr > 200 && gr < 230 && b < 30) star++;  // the drawing's yellow star
    }
    return [coloured, star];
"""


def test_the_points_map_in_a_real_browser(browser, small_split):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 20, poll_frequency=0.05)
    browser.get("about:blank")  # the page of a test before, whose server is gone, goes
    browser.get_log("browser")  # with what it logged
    with serving(small_split) as (port, watch):
        browser.get(f"http://127.0.0.1:{port}/")
        wait.until(lambda _: browser.execute_script(COLOURED_PIXELS, "map")[0] > 1000)  # dots
        watch.control({"action": "pause"})  # the map holds still
        wait.until(lambda _: held(watch))
        epoch = watch.state()["epoch"]
        wait.until(lambda _: browser.execute_script("return map && map.epoch") == epoch)
        about = browser.find_element(By.ID, "map-about")
        assert re.fullmatch(
            rf'after epoch {epoch}; "hidden 2" has 64 numbers a digit, and this plane keeps '
            r"\d+% of their spread; \d+ of the 1,000 read wrong",
            about.text,
        )

        # Pointing at a dot shows its digit and the network's answer
        map_canvas = browser.find_element(By.ID, "map")
        served = get_json(port, "/points?layer=hidden%202")[1]
        dot = 123
        x, y = browser.execute_script("return mapScreen[arguments[0]]", dot)
        assert map_canvas.size["width"] == 460 + 2  # shown at its size (and a border of 1)
        width = 460
        ActionChains(browser).move_to_element_with_offset(
            map_canvas, round(x - width / 2), round(y - width / 2)
        ).perform()
        info = browser.find_element(By.ID, "map-info")
        pointed = browser.execute_script("return mapPointed")
        label, said = served["labels"][pointed], served["predicted"][pointed]
        assert (
            np.hypot(*np.subtract(browser.execute_script("return mapScreen[mapPointed]"), (x, y)))
            < 10
        )
        wait.until(lambda _: info.text.startswith(f"a {label}: the network says {said} ("))
        assert browser.execute_script(CANVAS_PIXELS, "map-digit") != 0
        digit_ink = browser.execute_script(
            "const d = document.getElementById('map-digit').getContext('2d')"
            ".getImageData(0, 0, 112, 112).data; let ink = 0;"
            "for (let i = 0; i < d.length; i += 4) if (d[i] < 128) ink++; return ink;"
        )
        assert digit_ink > 200  # a 28x28 digit drawn 4x: dark ink on white

        # The layer control changes the picture
        before = browser.execute_script(CANVAS_PIXELS, "map")
        Select(browser.find_element(By.ID, "map-layer")).select_by_visible_text("pixels")
        wait.until(lambda _: browser.execute_script("return map.layer") == "pixels")
        wait.until(lambda _: browser.execute_script(CANVAS_PIXELS, "map") != before)
        assert '"pixels" has 784 numbers a digit' in about.text
        options = browser.find_elements(By.CSS_SELECTOR, "#map-layer option")
        assert [option.text for option in options] == list(points_map.LAYERS)

        # A digit drawn on the pad appears on the map, where POST /points places it
        assert browser.execute_script(COLOURED_PIXELS, "map")[1] == 0
        canvas = browser.find_element(By.ID, "canvas")
        stroke = ActionChains(browser, duration=10).move_to_element_with_offset(canvas, 5, -95)
        stroke.click_and_hold()
        for _ in range(19):
            stroke.move_by_offset(-1, 10)
        stroke.release().perform()
        wait.until(lambda _: browser.execute_script(COLOURED_PIXELS, "map")[1] > 30)
        placed = browser.execute_script("return drawnPoint")
        assert set(placed["points"]) == set(points_map.LAYERS) and placed["epoch"] == epoch
        browser.find_element(By.ID, "clear").click()
        wait.until(lambda _: browser.execute_script(COLOURED_PIXELS, "map")[1] == 0)
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        browser.get("about:blank")  # no more polls of a server about to go
