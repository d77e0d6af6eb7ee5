"""Watch a network learn: the controller behind `python src/use_network.py watch`.

TrainingWatch is the training hook of NN_Numpy.train(): the loop calls its train_started()
once, its batch_done() after every update and its epoch_done() after every epoch, in the
training thread. It keeps what the page shows (curves, the first layer's weights, each layer's
health, a fixed panel of validation digits, the batch being trained on) and obeys the page's
controls (pause, one more batch, one more epoch, a new learning rate, stop). The server's
threads only call state(), control() and the readers below them; they never touch the
training network: they read a copy of it (network_copy), taken in the training thread.

Costs, per batch: a lock, a few counters and the smoothed loss kept. At most every `interval`
seconds: a copy of the network, and the next batch's health numbers measured against it.
What only the page needs (the weights as bytes, the histograms) the server's threads compute
from that copy, outside the lock: a page costs the training little, no page costs it nothing.

This module is longer than the others (about 750 lines) because the hook, its snapshot and the
page's controls share one lock and one state: split, each half would reach into the other's.
The live points map, which does not, is in watch_map.py.
"""

from __future__ import annotations

import argparse
import collections
import copy
import math
import re
import threading
import time
from dataclasses import fields
from http import HTTPStatus
from pathlib import Path

import numpy as np

import NN_Numpy as nn
from files.run_record import SETTING_RULES
from learning import command_line
from pages import draw_server, page_server
from pages.page_server import RequestError, quoted
from pages.watch_map import LiveMap, points_layer
from using import points_map

PANEL_PER_CLASS = 3  # validation digits of each class on the page's fixed panel
BATCH_SAMPLE = 16  # images of the current batch shown
LOSS_POINTS = 1000  # the per-batch loss curve keeps at most this many points (then halves)
HEALTH_POINTS = 600  # likewise for the health samples
HISTOGRAM_BINS = 41
CONTROLS_KEPT = 200  # the control log keeps the latest this many (the page's, the record's)
SMOOTHING = 0.98  # the per-batch loss is an exponential moving average: 0.98 old + 0.02 new

ACTIONS = ("pause", "resume", "step", "epoch", "stop")
POLLS_PER_SECOND = 40  # GET /state, /weights, /batch answered at most this often, all tabs
POLL_WAIT = 2.0  # seconds a poll may wait for its turn; beyond, 503 (never, with 32 workers)


class ControlError(ValueError):
    """A control request the controller refuses; its text names the problem (the page's 400)."""

    status = HTTPStatus.BAD_REQUEST


class ControlConflict(ControlError):
    """A well-formed control the run can no longer obey (the page's 409): it has left the
    training loop, or it diverged (then only stop is possible)."""

    status = HTTPStatus.CONFLICT


def first_layer_bytes(weights: np.ndarray) -> tuple[bytes, float]:
    """First-layer weights (784, n) -> (n * 784,) uint8, unit after unit, 128 for 0 and
    128 +- 127 for +- the scale (the 99.5th percentile of |w|, so a few big weights do not wash
    out the rest), and the scale: 100 KB for the page instead of 100,000 JSON numbers."""
    scale = float(np.percentile(np.abs(weights), 99.5)) or 1.0
    levels = np.clip(np.rint(weights.T * (127 / scale)), -127, 127) + 128  # (n, 784)
    return levels.astype(np.uint8).tobytes(), scale


def finite(value: float) -> float | None:
    """A number as it is for JSON, which has no NaN nor infinity: None for those."""
    return value if math.isfinite(value) else None


def bin_counts(values: np.ndarray, limit: float, bins: int = HISTOGRAM_BINS) -> list[int]:
    """How many values fall in each of `bins` equal bins from -limit to limit, those beyond in
    the end bins (np.bincount: 8x faster than np.histogram on 100,000 float32s)."""
    index = ((values.ravel() + limit) * (bins / (2 * limit))).astype(np.intp)  # (n,)
    return np.bincount(np.clip(index, 0, bins - 1), minlength=bins).tolist()


def panel_rows(labels: np.ndarray, per_class: int = PANEL_PER_CLASS) -> np.ndarray:
    """Row numbers of the first `per_class` images of each class, class by class."""
    rows = [np.flatnonzero(labels == digit)[:per_class] for digit in np.unique(labels)]
    return np.concatenate(rows)


class Decimated:
    """A list of points that never holds more than `limit`: past it, every other point is
    dropped and only every 2nd, 4th, ... new point is kept. Bounded memory for any run length."""

    def __init__(self, limit: int) -> None:
        self.limit, self.stride, self.seen, self.points = limit, 1, 0, []

    def add(self, point) -> None:
        if self.seen % self.stride == 0:
            self.points.append(point)
            if len(self.points) > self.limit:
                self.points = self.points[::2]
                self.stride *= 2
        self.seen += 1


class TrainingWatch(nn.TrainingHook):
    """The hook of one training run, and the state the page shows. Thread-safe."""

    def __init__(self, config: nn.TrainConfig, interval=0.5, clock=time.perf_counter) -> None:
        self.config, self.interval, self.clock = config, interval, clock
        self.lock = threading.Condition()  # guards everything below; wait() holds a pause
        self.epochs = config.epochs
        self.batches_per_epoch = 0  # known when the training starts
        self.started = False  # until train_started(): the data is still being read
        self.epoch = 0  # epochs finished
        self.batches_done = 0  # in the run
        self.paused = self.finished = self.stopping = self.holding = False
        self.left_loop = False  # past the last batch: the final evaluation, the saving
        self.divergence: str | None = None  # what the page says about a divergence
        self.run_until_batch: int | None = None  # while paused: 'step' runs until batches_done
        self.run_until_epoch: int | None = None  # while paused: 'epoch' runs until self.epoch
        self.learning_rate = nn.learning_rate_at(0, config)  # of the latest update
        self.requested_learning_rate: float | None = None  # from the page, not yet applied
        # the controls, and when: for the page and the record; the latest CONTROLS_KEPT only
        self.changes: collections.deque[dict] = collections.deque(maxlen=CONTROLS_KEPT)
        self.changes_dropped = 0  # older ones no longer kept
        self.history: list[dict] = []
        self.epoch_seconds: list[float] = []  # training time per epoch, pauses left out
        self.epoch_running = 0.0  # seconds trained in the current epoch so far
        self.resumed_at = clock()  # when the training thread last left a hook
        self.loss_curve = Decimated(LOSS_POINTS)  # (batch, smoothed loss)
        self.smoothed_loss: float | None = None
        self.health = Decimated(HEALTH_POINTS)  # dicts: batch, gradient, update_ratio, dead
        self.next_sample = clock()  # when the next snapshot is due
        self.measure_update = False  # the batch after a snapshot measures its update
        self.panel_images = self.panel_labels = self.panel_predictions = None
        self.batch_images: np.ndarray | None = None  # (16, 784) of the latest sampled batch
        self.batch_labels: list[int] = []
        self.network_copy: nn.NeuralNetwork | None = None
        self.snapshot_version = 0
        self.snapshot_batch = -1  # batches_done when the latest snapshot was taken
        self.weights_cache: tuple[int, bytes, float] | None = None
        self.histograms: tuple[int, list[dict]] = (0, [])  # (snapshot, per layer)
        self.state_cache: tuple[tuple, dict[int, bytes]] = ((), {})  # see state_json
        self.state_encoding = threading.Lock()  # one thread encodes a new state, not each
        self.message = "reading the data"
        self.live_map = LiveMap()  # the points map: its own lock, computed by the server

    # -- the hook: called by NN_Numpy.train() in the training thread --------------------------

    def train_started(self, network, X_train, y_train, X_val, y_val) -> None:
        """Before the first batch: the weights at the start, the panel's digits."""
        with self.lock:
            self.batches_per_epoch = -(-len(X_train) // self.config.batch_size)
            self.start_weights = [layer.weights.copy() for layer in network.layers]
            self.start_limits = [float(np.percentile(np.abs(w), 99.5)) for w in self.start_weights]
            self.relu_layers = [
                i for i, layer in enumerate(network.layers) if layer.activation == "relu"
            ]
            if X_val is not None:
                rows = panel_rows(y_val)
                self.panel_images, self.panel_labels = X_val[rows], y_val[rows]
            self.take_snapshot(network)
            self.predict_panel(network)
            self.live_map.network_changed(network, 0, X_val, y_val, self.config.seed)
            self.started, self.message = True, ""
            self.resumed_at = self.clock()

    def batch_done(self, images, labels, loss, network, optimizer) -> None:
        """After each update. Blocks while paused; raises StopTraining when asked to stop."""
        now = self.clock()
        with self.lock:
            self.epoch_running += now - self.resumed_at
            self.batches_done += 1
            self.learning_rate = optimizer.learning_rate
            if self.smoothed_loss is None:
                self.smoothed_loss = loss
            self.smoothed_loss = SMOOTHING * self.smoothed_loss + (1 - SMOOTHING) * loss
            self.loss_curve.add((self.batches_done, self.smoothed_loss))
            if self.measure_update:  # the update just made, against the snapshot before it
                self.health.add(self.measure_health(network))
                self.measure_update = False
            if now >= self.next_sample:
                self.take_snapshot(network, images, labels)
                self.next_sample = now + self.interval
                self.measure_update = True
            self.hold(network, optimizer)

    def epoch_done(self, stats: dict, network, optimizer) -> None:
        """After each epoch's evaluation. Blocks while paused; raises StopTraining when asked."""
        now = self.clock()
        with self.lock:
            self.epoch_running += now - self.resumed_at
            self.epoch_seconds.append(self.epoch_running)
            self.epoch_running = 0.0
            self.epoch += 1
            self.history.append({key: finite(value) for key, value in stats.items()})
            self.predict_panel(network)
            self.take_snapshot(network)
            self.live_map.network_changed(network, self.epoch)
            self.hold(network, optimizer)
            self.left_loop = self.epoch >= self.epochs

    def diverged(self, message: str, network, optimizer) -> None:
        """The loss is no longer finite: hold the run, paused, the page saying so, until the
        user stops it (stop then saves the last finite snapshot, see hold)."""
        with self.lock:
            if self.snapshot_batch != self.batches_done:
                self.take_snapshot(network)  # the weights may still be finite, only too big
            batch = self.batches_done + 1
            self.note_divergence(batch, optimizer.learning_rate, "the loss became not finite")
            self.hold(network, optimizer)

    def record(self) -> dict:
        """What the run record adds: every control the page sent, and when."""
        with self.lock:
            record = {"controls": [dict(change) for change in self.changes]}
            if self.changes_dropped:
                record["controls_dropped"] = self.changes_dropped
            if self.divergence:
                record["diverged"] = self.divergence
            return record

    # -- inside the hook, with the lock held ---------------------------------------------------

    def hold(self, network, optimizer) -> None:
        """Wait while paused (a step or an epoch lets the training run on to its end); then
        apply a learning rate the page asked for: train() goes on from it."""
        if self.must_wait() and self.snapshot_batch != self.batches_done:
            self.take_snapshot(network)  # paused: the page shows the network as it is
        while not self.stopping and self.must_wait():
            self.holding = True  # the training waits here (tests wait for this)
            self.lock.wait()
        self.holding = False
        if self.stopping:
            self.left_loop = True
            if self.divergence:  # the network is broken: train() returns the last finite one
                for layer, kept in zip(network.layers, self.network_copy.layers):
                    layer.weights[...], layer.bias[...] = kept.weights, kept.bias
            raise nn.StopTraining
        if self.requested_learning_rate is not None:
            optimizer.learning_rate = self.learning_rate = self.requested_learning_rate
            self.requested_learning_rate = None
        self.resumed_at = self.clock()

    def must_wait(self) -> bool:
        if not self.paused:
            return False
        if self.run_until_batch is not None and self.batches_done < self.run_until_batch:
            return False
        return not (self.run_until_epoch is not None and self.epoch < self.run_until_epoch)

    def take_snapshot(self, network, images=None, labels=None) -> None:
        """A copy of the network for the page (weights, drawing pad) and the batch's images.
        Never a broken one: weights no longer finite are a divergence, and the copy stays the
        last finite one (what a stop then saves)."""
        if not all(np.isfinite(p).all() for p in network.parameters()):  # 0.1 ms
            self.note_divergence(self.batches_done, self.learning_rate, "the weights overflowed")
            return
        self.network_copy = copy.deepcopy(network)  # 0.2 ms
        self.snapshot_version += 1
        self.snapshot_batch = self.batches_done
        if images is not None:
            self.batch_images = np.array(images[:BATCH_SAMPLE])
            self.batch_labels = [int(label) for label in labels[:BATCH_SAMPLE]]

    def note_divergence(self, batch: int, rate: float, what: str) -> None:
        """The run diverged at this batch: pause it and tell the page, in words."""
        if self.divergence:
            return
        if self.epoch >= 1:
            then = f"stop saves the last finite snapshot, from batch {self.snapshot_batch:,}"
        else:
            then = "no epoch has finished, so stop saves no model"
        self.divergence = (
            f"the training diverged at batch {batch:,} (epoch {self.epoch + 1}) with learning "
            f"rate {rate:g}: {what}; {then}"
        )
        self.message = self.divergence
        self.paused, self.run_until_batch, self.run_until_epoch = True, None, None

    def measure_health(self, network) -> dict:
        """Per layer: RMS of dL/dW; |update| / |W| of the step just made (against the snapshot
        taken one batch before); per ReLU layer, the share of units that gave 0 for every image
        of the batch."""
        gradient, update_ratio = [], []
        with np.errstate(over="ignore", invalid="ignore"):  # a run about to diverge: None
            for layer, before in zip(network.layers, self.network_copy.layers):
                gradient.append(finite(float(np.sqrt(np.mean(np.square(layer.grad_weights))))))
                step = np.linalg.norm(layer.weights - before.weights)
                update_ratio.append(
                    finite(float(step / max(np.linalg.norm(before.weights), 1e-12)))
                )
        dead = [float((network.layers[i].output.max(axis=0) <= 0).mean()) for i in self.relu_layers]
        return {
            "batch": self.batches_done,
            "gradient": gradient,
            "update_ratio": update_ratio,
            "dead": dead,
        }

    def predict_panel(self, network) -> None:
        if self.panel_images is None:
            return
        probs = network.predict_proba(self.panel_images)  # (30, 10)
        predicted = probs.argmax(axis=1)
        self.panel_predictions = {
            "epoch": self.epoch,
            "predicted": predicted.tolist(),
            "probability": probs[np.arange(len(probs)), predicted].tolist(),
        }

    # -- for the page: called from the server threads ---------------------------------------------
    # What takes more than a moment is computed here, from the latest snapshot (a copy nobody
    # changes), outside the lock: the training never waits for the page, nor works for it
    # when no page is open.

    def weight_histograms(self) -> list[dict]:
        """Per layer, the weights of the latest snapshot and those at the start counted in the
        same bins, and how far they moved: |W - W_start| / |W_start|. Computed once a snapshot."""
        with self.lock:
            version, network = self.snapshot_version, self.network_copy
            if network is None or self.histograms[0] == version:
                return self.histograms[1]
        layers = []
        for layer, start, start_limit in zip(network.layers, self.start_weights, self.start_limits):
            # the bins span 99.5% of either (now: of every 7th weight, plenty for a picture)
            limit = max(start_limit, float(np.percentile(np.abs(layer.weights.ravel()[::7]), 99.5)))
            with np.errstate(over="ignore"):  # weights near overflow: inf, sent as null
                moved = np.linalg.norm(layer.weights - start) / max(np.linalg.norm(start), 1e-12)
            layers.append(
                {
                    "limit": limit,
                    "now": bin_counts(layer.weights, limit),
                    "start": bin_counts(start, limit),
                    "moved": float(moved),
                }
            )
        with self.lock:
            self.histograms = (version, layers)
        return layers

    def control(self, request: dict) -> dict:
        """{"action": "pause" | "resume" | "step" | "epoch" | "stop"} or {"learning_rate": x};
        returns the new state, or raises ControlError naming the problem."""
        if not isinstance(request, dict) or len(request) != 1:
            raise ControlError(
                'send one JSON object with one key: {"action": ...} or {"learning_rate": ...}'
            )
        ((key, value),) = request.items()
        with self.lock:
            if key == "action":
                self.act(value)
            elif key == "learning_rate":
                self.set_learning_rate(value)
            else:
                raise ControlError(f"unknown key {quoted(key)}; use 'action' or 'learning_rate'")
            self.lock.notify_all()
            return self.state_locked()

    def act(self, action) -> None:
        if action not in ACTIONS:
            raise ControlError(f"unknown action {quoted(action)}; use one of {', '.join(ACTIONS)}")
        if self.finished:
            raise ControlError(f"the training has finished; nothing to {action}")
        self.refuse_if_past(action)
        if action == "pause":
            self.paused = True
        elif action == "resume":
            self.paused, self.run_until_batch, self.run_until_epoch = False, None, None
        elif action == "step":
            self.paused, self.run_until_batch = True, self.batches_done + 1
        elif action == "epoch":
            self.paused, self.run_until_epoch = True, self.epoch + 1
        elif action == "stop":
            self.stopping = True
        self.log_control(action=action)

    def set_learning_rate(self, value) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ControlError(f"learning_rate must be a number, got {quoted(value)}")
        try:
            rate = float(value)
        except OverflowError:  # an integer of 400 digits is JSON too
            rate = math.inf
        in_range = SETTING_RULES["learning_rate"][1]  # the rule --learning-rate obeys
        if not (math.isfinite(rate) and in_range(rate)):
            raise ControlError(f"learning_rate must be a finite number > 0, got {rate!r}")
        if self.finished:
            raise ControlError("the training has finished; the learning rate has nothing to do")
        self.refuse_if_past("change the learning rate")
        self.requested_learning_rate = rate
        self.log_control(learning_rate=rate)

    def refuse_if_past(self, action: str) -> None:
        """409 for a control the run can no longer obey."""
        if self.left_loop:
            raise ControlConflict(
                f"the training has left its loop (evaluating and saving); too late to {action}"
            )
        if self.divergence and action != "stop":
            raise ControlConflict(f"{self.divergence}; only stop is possible")

    def log_control(self, **what) -> None:
        """A control, and when, in the log: past CONTROLS_KEPT, the oldest is dropped, counted."""
        self.changes_dropped += len(self.changes) == CONTROLS_KEPT
        self.changes.append({"epoch": self.epoch, "batches_done": self.batches_done, **what})

    def state(self) -> dict:
        histograms = self.weight_histograms()
        with self.lock:
            return self.state_locked() | {"histograms": histograms}

    def state_locked(self) -> dict:
        done = sorted(self.epoch_seconds[-5:])  # the median of the last 5 epochs: time left
        per_epoch = done[len(done) // 2] if done else None
        left = None
        if per_epoch is not None:
            left = max(0.0, (self.epochs - self.epoch) * per_epoch - self.epoch_running)
        return {
            "epoch": self.epoch,
            "epochs": self.epochs,
            "batches_done": self.batches_done,
            "batches_per_epoch": self.batches_per_epoch,
            "paused": self.paused,
            "held": self.holding,  # paused, and the training is waiting (not finishing a batch)
            "finished": self.finished,
            "started": self.started,
            "stopping": self.stopping,  # asked to stop; with finished: stopped early
            "message": self.message,
            "learning_rate": self.requested_learning_rate or self.learning_rate,
            "history": [dict(h) for h in self.history],
            "changes": [dict(c) for c in self.changes],
            "changes_dropped": self.changes_dropped,  # older controls no longer listed
            "seconds_per_epoch": per_epoch,
            "seconds_left": left,
            "loss_curve": list(self.loss_curve.points),
            "health": list(self.health.points),
            "histograms": self.histograms[1],
            "panel": self.panel_predictions,
            "snapshot": self.snapshot_version,
        }

    def state_key(self) -> tuple:
        """What /state shows, but for the counters of every batch (batches_done, the curves'
        newest points), which a poll sees as of the latest snapshot: at most `interval` old."""
        return (
            self.snapshot_version,
            self.epoch,
            self.started,
            self.paused,
            self.holding,
            self.finished,
            self.stopping,
            self.message,
            self.changes_dropped + len(self.changes),
            self.requested_learning_rate,
            self.learning_rate,
        )

    def state_json(self, since: int = 0) -> bytes:
        """GET /state[?since=N] as JSON bytes, encoded once per state (state_key) and `since`,
        whichever tab asks: polling clients cost the training a lookup, not an encoding each
        (16 of them once slowed it 18x)."""
        with self.lock:
            key, encoded = self.state_cache
            if key == self.state_key() and since in encoded:
                return encoded[since]
        with self.state_encoding:
            with self.lock:
                key = self.state_key()
                if self.state_cache[0] == key and since in self.state_cache[1]:
                    return self.state_cache[1][since]
            state = self.state()
            state["loss_curve"] = [point for point in state["loss_curve"] if point[0] > since]
            state["health"] = [sample for sample in state["health"] if sample["batch"] > since]
            body = page_server.json_encoded(state)
            with self.lock:
                encoded = self.state_cache[1] if self.state_cache[0] == key else {}
                if len(encoded) >= 64:  # tabs asking from many points: bounded
                    encoded = {}
                self.state_cache = (key, encoded | {since: body})
            return body

    def weights_snapshot(self) -> tuple[int, bytes, float] | None:
        """(version, bytes, scale) of the first layer's weights in the latest snapshot, encoded
        once per snapshot whichever tab asks; None before the training starts."""
        with self.lock:
            if self.network_copy is None:
                return None
            if self.weights_cache is not None and self.weights_cache[0] == self.snapshot_version:
                return self.weights_cache
            version, weights = self.snapshot_version, self.network_copy.layers[0].weights
        encoded = (version, *first_layer_bytes(weights))
        with self.lock:
            self.weights_cache = encoded
        return encoded

    def batch_snapshot(self) -> tuple[bytes, list[int]]:
        """The latest sampled batch's first images as bytes, and their labels."""
        with self.lock:
            if self.batch_images is None:
                return b"", []
            return points_map.image_bytes(self.batch_images), list(self.batch_labels)

    def panel(self) -> dict:
        """The fixed validation digits (784 values 0-255 each) and their labels."""
        with self.lock:
            if self.panel_images is None:
                return {"images": [], "labels": []}
            pixels = np.rint(self.panel_images * 255).astype(int)
            return {"images": pixels.tolist(), "labels": self.panel_labels.tolist()}

    def drawing_network(self) -> nn.NeuralNetwork | None:
        """The network as it was at the latest snapshot, for the drawing pad (never the one
        being trained: its forward() would overwrite what backward() needs); None before the
        training starts."""
        with self.lock:
            return self.network_copy

    def finish(self, message: str) -> None:
        """The training ended (all epochs, stopped, or an error): the page says so."""
        with self.lock:
            self.finished, self.paused, self.message = True, False, message
            self.lock.notify_all()


# --- The page's server: page_server's hardened server, with these routes ----------------------
# GET /state[?since=N]  the run as JSON (TrainingWatch.state); with since, only the curves' points
#                       after batch N (the page asks for what it does not have yet)
# POST /control         {"action": "pause" | "resume" | "step" | "epoch" | "stop"} or
#                       {"learning_rate": x}: 200 and the new state, or 400 naming the problem
# GET /weights          the first layer's weights, one byte each, unit after unit (128 = 0, the
#                       headers X-Units and X-Scale: 255 stands for +scale)
# GET /batch            the first 16 images of a batch just trained on, one byte a pixel
#                       (X-Labels: their labels, comma-separated)
# GET /panel            the fixed validation digits: {"images": [[784 values 0-255]], "labels"}
# POST /predict         the drawing page's answer (draw_server.answer_image) from the network
#                       as it was a moment ago; 503 before the training starts
# GET /points?layer=L   the points map of layer L (pixels, hidden 1, ..., output) at the latest
#                       epoch: LiveMap.answer; without ?layer, hidden 2's (the last hidden one's)
# GET /points/images    the map's digits, one byte a pixel, in the order of its points
# POST /points          where a drawing (as POST /predict takes it) lands on each layer's map


class WatchHandler(page_server.PageHandler):
    server: WatchServer
    page_dir = Path(__file__).resolve().parent  # src/: the page in watch/, the pad's in draw/
    pages = {
        "/": ("watch/index.html", page_server.HTML),
        "/watch.js": ("watch/watch.js", page_server.JAVASCRIPT),
        "/digits.js": ("watch/digits.js", page_server.JAVASCRIPT),
        "/watch.css": ("watch/watch.css", page_server.CSS),
        "/draw.js": ("draw/draw.js", page_server.JAVASCRIPT),
        "/draw.css": ("draw/draw.css", page_server.CSS),
    }
    routes = {
        ("GET", "/state"): "state",
        ("POST", "/control"): "control",
        ("GET", "/panel"): "panel",
        ("GET", "/weights"): "weights",  # bytes, sent by do_GET; listed for 405's Allow
        ("GET", "/batch"): "batch",
        ("POST", "/predict"): "predict",
        ("GET", "/points"): "points",  # with ?layer=, answered by do_GET
        ("POST", "/points"): "place",
        ("GET", "/points/images"): "points_images",  # bytes, sent by do_GET
    }
    empty_body_message = "empty body"
    server_version = "watch_server"
    points_query = ""  # GET /points' query, set by do_GET for points()

    def log_message(self, format, *args) -> None:
        """Quiet: a line per poll would drown the training's own lines; errors still show."""

    def log_error(self, format, *args) -> None:
        super().log_message(format, *args)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path in ("/state", "/weights", "/batch") and not self.server.take_turn():
            self.send_error(HTTPStatus.SERVICE_UNAVAILABLE, "too many polls; try again shortly")
            return
        if path == "/state" and query:
            match = re.fullmatch(r"since=([0-9]{1,15})", query)
            if match:
                body = self.server.watch.state_json(since=int(match[1]))
                self.send_body(HTTPStatus.OK, "application/json", body)
            else:
                self.send_error(HTTPStatus.BAD_REQUEST, "/state takes only ?since=N, N a batch")
        elif self.path == "/state":
            self.send_body(HTTPStatus.OK, "application/json", self.server.watch.state_json())
        elif self.path in ("/weights", "/batch"):
            self.send_bytes()
        elif path == "/points":  # with or without ?layer=: answered by points()
            self.points_query, self.path = query, path
            self.answer_route()
        elif self.path == "/points/images":
            try:
                body = self.server.watch.live_map.image_bytes()
            except RequestError as error:
                self.send_error(error.status, str(error))
            else:
                self.send_body(HTTPStatus.OK, "application/octet-stream", body)
        else:
            super().do_GET()

    def send_bytes(self) -> None:
        watch = self.server.watch
        if self.path == "/batch":
            body, labels = watch.batch_snapshot()
            headers = {"X-Labels": ",".join(map(str, labels))}
        elif (snapshot := watch.weights_snapshot()) is None:
            self.send_error(HTTPStatus.SERVICE_UNAVAILABLE, "the training has not started yet")
            return
        else:
            version, body, scale = snapshot
            units = len(body) // nn.N_PIXELS
            headers = {"X-Snapshot": str(version), "X-Scale": f"{scale:.6g}", "X-Units": str(units)}
        self.send_body(HTTPStatus.OK, "application/octet-stream", body, headers)

    def state(self) -> dict:  # not reached: do_GET sends state_json's bytes
        return self.server.watch.state()

    def control(self, body: bytes) -> dict:
        request = page_server.parse_json_object(body)
        try:
            return self.server.watch.control(request)
        except ControlError as error:
            raise RequestError(error.status, str(error)) from None

    def panel(self) -> dict:
        return self.server.watch.panel()

    def points(self) -> dict:
        live_map = self.server.watch.live_map
        if self.points_query:
            return live_map.answer(points_layer(self.points_query))
        return live_map.answer(live_map.layers()[-2])  # the last hidden layer's

    def place(self, body: bytes) -> dict:
        return self.server.watch.live_map.place(body)

    def predict(self, body: bytes) -> dict:
        network = self.server.watch.drawing_network()
        if network is None:
            raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, "the training has not started yet")
        with self.server.network_lock:  # a forward pass keeps its arrays in the layers
            return draw_server.answer_image(network, 0.0, body)  # 0: always answer


class WatchServer(page_server.PageServer):
    """The page server, holding the run's TrainingWatch."""

    def __init__(self, address, watch: TrainingWatch, **limits) -> None:
        super().__init__(address, WatchHandler, **limits)
        self.watch = watch
        self.network_lock = threading.Lock()
        self.turns = threading.Lock()
        self.next_turn = 0.0  # when the next poll may be answered

    def take_turn(self) -> bool:
        """Wait (asleep, costing nothing) for this poll's turn: polls are answered at most
        POLLS_PER_SECOND, however many clients loop on them, so they cannot starve the
        training (16 once slowed it 18x); False if the turn is over POLL_WAIT away."""
        with self.turns:
            now = time.monotonic()
            turn = max(now, self.next_turn)
            if turn - now > POLL_WAIT:
                return False
            self.next_turn = turn + 1 / POLLS_PER_SECOND
        time.sleep(turn - now)
        return True


# --- The command: python src/use_network.py watch [training options] ---------------------------


def build_parser() -> argparse.ArgumentParser:
    """NN_Numpy's own parser (every training option, the same defaults), and the page's."""
    parser = command_line.build_parser(fields(nn.TrainConfig))
    parser.prog = "use_network.py watch"
    parser.description = (
        "Train exactly as python src/NN_Numpy.py does, with the same options, and watch it "
        "live in your browser: the curves, what the first-layer units look for, each layer's "
        "health, digits being read, a drawing pad; pause, step, change the learning rate, "
        "stop and save. Serves a page on this computer and prints its address first."
    )
    add_page_options(parser)
    return parser


def add_page_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="the page's port (0: any free one)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = {setting.name: getattr(args, setting.name) for setting in fields(nn.TrainConfig)}
        config = nn.TrainConfig(**settings)
    except ValueError as error:
        parser.error(str(error))  # exits with status 2, after the usage line
    # The run record's command is the training's own: the options without the page's.
    page_options = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_page_options(page_options)
    training_argv = page_options.parse_known_args(argv)[1]
    return command_line.report_errors(lambda: watch_training(config, args, training_argv))


def watch_training(config: nn.TrainConfig, args: argparse.Namespace, argv: list[str]) -> int:
    """Serve the page from a thread, train in this one (Ctrl-C stops as in NN_Numpy: exit 130,
    nothing half-written), then keep the page up until Ctrl-C."""
    watch = TrainingWatch(config)
    host = "127.0.0.1"
    server, url = draw_server.bound(lambda: WatchServer((host, args.port), watch), host, args.port)
    with server:
        print(url, flush=True)
        print("Watch the training there; Ctrl-C stops it.", flush=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        if not args.no_browser:
            draw_server.open_browser(url)
        try:
            status = nn.run_training(config, args, argv, hook=watch)
            try:  # from here on, Ctrl-C is the way to leave: nothing is left to lose
                if status != 0 and watch.stopping and watch.epoch == 0:
                    watch.finish("stopped before the first epoch ended; no model was saved")
                elif status != 0:
                    watch.finish("the training failed (see the terminal); no model was saved")
                elif watch.divergence:
                    kept = f"the last finite snapshot (batch {watch.snapshot_batch:,})"
                    watch.finish(f"stopped after the divergence; {kept} was saved to {args.model}")
                elif watch.stopping:
                    watch.finish(f"stopped early; the model was saved to {args.model}")
                else:
                    watch.finish(f"the model was saved to {args.model}")
                print(f"Training over; the page stays up at {url} until Ctrl-C.", flush=True)
                threading.Event().wait()
            except KeyboardInterrupt:
                print("\nstopped", flush=True)
            return status
        finally:
            server.shutdown()
