"""Watch a network learn: the controller behind `python src/use_network.py watch`.

TrainingWatch is the training hook of NN_Numpy.train(): the loop calls its batch_done() after
every update and its epoch_done() after every epoch, in the training thread. It keeps what the
page shows (curves, the first layer's weights, each layer's health, a fixed panel of validation
digits, the batch being trained on) and obeys the page's controls (pause, one more batch, one
more epoch, a new learning rate, stop). The page's server threads only call state(), control()
and the snapshot readers below, all under one lock; they never touch the training network:
the drawing pad asks a copy of it (snapshot_network), taken in the training thread.

Costs, per batch: a lock, a few counters and the loss appended to a list. The rest (copies of
the weights, health numbers) is done at most every `interval` seconds, and the conversion of
the weights to bytes for the page in the server thread, once per snapshot.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time

import numpy as np

import NN_Numpy as nn

PANEL_PER_CLASS = 3  # validation digits of each class on the page's fixed panel
BATCH_SAMPLE = 16  # images of the current batch shown
LOSS_POINTS = 1000  # the per-batch loss curve keeps at most this many points (then halves)
HEALTH_POINTS = 600  # likewise for the health samples
HISTOGRAM_BINS = 41
SMOOTHING = 0.98  # the per-batch loss is an exponential moving average: 0.98 old + 0.02 new

ACTIONS = ("pause", "resume", "step", "epoch", "stop")


class StopTraining(Exception):
    """Raised in the training thread by the hook when the page asks to stop."""


class ControlError(ValueError):
    """A control request the controller refuses; its text names the problem (the page's 400)."""


def first_layer_bytes(weights: np.ndarray) -> tuple[bytes, float]:
    """First-layer weights (784, n) -> (n * 784,) uint8, unit after unit, 128 for 0 and
    128 +- 127 for +- the scale (the 99.5th percentile of |w|, so a few big weights do not wash
    out the rest), and the scale: 100 KB for the page instead of 100,000 JSON numbers."""
    scale = float(np.percentile(np.abs(weights), 99.5)) or 1.0
    levels = np.clip(np.rint(weights.T * (127 / scale)), -127, 127) + 128  # (n, 784)
    return levels.astype(np.uint8).tobytes(), scale


def image_bytes(images: np.ndarray) -> bytes:
    """Images (n, 784) in [0, 1] -> n * 784 bytes 0-255."""
    return np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8).tobytes()


def copy_network(network: nn.NeuralNetwork) -> nn.NeuralNetwork:
    """A new network with copies of the weights and biases: the training may go on meanwhile."""
    copy = nn.NeuralNetwork.__new__(nn.NeuralNetwork)  # not __init__: no random weights drawn
    copy.layer_sizes, copy.dtype, copy.record = list(network.layer_sizes), network.dtype, {}
    copy.layers = []
    for layer in network.layers:
        twin = nn.FCLayer.__new__(nn.FCLayer)
        twin.activation, twin.activate, twin.activate_backward = (
            layer.activation,
            layer.activate,
            layer.activate_backward,
        )
        twin.weights, twin.bias = layer.weights.copy(), layer.bias.copy()
        copy.layers.append(twin)
    return copy


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


class TrainingWatch:
    """The hook of one training run, and the state the page shows. Thread-safe."""

    def __init__(
        self,
        network: nn.NeuralNetwork,
        config: nn.TrainConfig,
        n_train: int,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        interval: float = 0.25,
        clock=time.perf_counter,
    ) -> None:
        self.config, self.interval, self.clock = config, interval, clock
        self.lock = threading.Condition()  # guards everything below; wait() holds a pause
        self.epochs, self.batches_per_epoch = config.epochs, -(-n_train // config.batch_size)
        self.epoch = 0  # epochs finished
        self.batches_done = 0  # in the run
        self.paused = self.finished = self.stopping = False
        self.run_until_batch: int | None = None  # while paused: 'step' runs until batches_done
        self.run_until_epoch: int | None = None  # while paused: 'epoch' runs until self.epoch
        self.learning_rate = nn.learning_rate_at(0, config)  # the rate of the next update
        self.requested_learning_rate: float | None = None  # from the page, not yet applied
        self.changes: list[dict] = []  # settings changed during the run, and when
        self.history: list[dict] = []
        self.epoch_seconds: list[float] = []  # training time per epoch, pauses left out
        self.epoch_running = 0.0  # seconds trained in the current epoch so far
        self.resumed_at = clock()  # when the training thread last left a hook
        self.loss_curve = Decimated(LOSS_POINTS)  # (batch, smoothed loss)
        self.smoothed_loss: float | None = None
        self.health = Decimated(HEALTH_POINTS)  # dicts: batch, gradient, update_ratio, dead
        self.next_sample = clock()  # when the next snapshot is due
        self.measure_update = False  # the batch after a snapshot measures its update
        self.start_weights = [layer.weights.copy() for layer in network.layers]
        self.relu_layers = [
            i for i, layer in enumerate(network.layers) if layer.activation == "relu"
        ]
        self.panel_images = self.panel_labels = None
        if X_val is not None:
            rows = panel_rows(y_val)
            self.panel_images, self.panel_labels = X_val[rows], y_val[rows]
        self.panel_predictions: dict | None = None
        self.batch_images: np.ndarray | None = None  # (16, 784) of the latest sampled batch
        self.batch_labels: list[int] = []
        self.snapshot_version = 0
        self.weights_cache: tuple[int, bytes, float] | None = None
        self.take_snapshot(network)
        self.predict_panel(network)
        self.histograms = self.weight_histograms(network)

    # -- the hook: called by NN_Numpy.train() in the training thread --------------------------

    def batch_done(self, network, images, labels, loss: float) -> None:
        """After each update. Blocks while paused; raises StopTraining when asked to stop."""
        now = self.clock()
        with self.lock:
            self.epoch_running += now - self.resumed_at
            self.batches_done += 1
            self.smoothed_loss = (
                loss
                if self.smoothed_loss is None
                else SMOOTHING * self.smoothed_loss + (1 - SMOOTHING) * loss
            )
            self.loss_curve.add((self.batches_done, self.smoothed_loss))
            if self.measure_update:  # the update just made, against the snapshot before it
                self.health.add(self.measure_health(network))
                self.measure_update = False
            if now >= self.next_sample:
                self.take_snapshot(network, images, labels)
                self.next_sample = now + self.interval
                self.measure_update = True
            self.hold()

    def epoch_done(self, network, stats: dict) -> None:
        """After each epoch's evaluation. Blocks while paused; raises StopTraining when asked."""
        now = self.clock()
        with self.lock:
            self.epoch_running += now - self.resumed_at
            self.epoch_seconds.append(self.epoch_running)
            self.epoch_running = 0.0
            self.epoch += 1
            self.history.append(dict(stats))
            self.predict_panel(network)
            self.histograms = self.weight_histograms(network)
            self.take_snapshot(network, None, None)
            self.hold()

    def next_learning_rate(self, scheduled: float) -> float:
        """The rate of the next update: the schedule's, times the ratio the page asked for."""
        return scheduled

    # -- inside the hook, with the lock held ---------------------------------------------------

    def hold(self) -> None:
        """Wait while paused (a step or an epoch lets the training run on to its end)."""
        while not self.stopping and self.must_wait():
            self.lock.wait()
        if self.stopping:
            raise StopTraining
        self.resumed_at = self.clock()

    def must_wait(self) -> bool:
        if not self.paused:
            return False
        if self.run_until_batch is not None and self.batches_done < self.run_until_batch:
            return False
        return not (self.run_until_epoch is not None and self.epoch < self.run_until_epoch)

    def take_snapshot(self, network, images=None, labels=None) -> None:
        """A copy of the network for the page (weights, drawing pad) and the batch's images."""
        self.network_copy = copy_network(network)
        self.snapshot_version += 1
        if images is not None:
            self.batch_images = np.array(images[:BATCH_SAMPLE])
            self.batch_labels = [int(label) for label in labels[:BATCH_SAMPLE]]

    def measure_health(self, network) -> dict:
        """Per layer: RMS of dL/dW; |update| / |W| of the step just made (against the snapshot
        taken one batch before); per ReLU layer, the share of units that gave 0 for every image
        of the batch."""
        gradient, update_ratio = [], []
        for layer, before in zip(network.layers, self.network_copy.layers):
            gradient.append(float(np.sqrt(np.mean(np.square(layer.grad_weights)))))
            step = np.linalg.norm(layer.weights - before.weights)
            update_ratio.append(float(step / max(np.linalg.norm(before.weights), 1e-12)))
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

    def weight_histograms(self, network) -> list[dict]:
        """Per layer, the weights now and at the start counted in the same bins, and how far they
        moved: |W - W_start| / |W_start|."""
        layers = []
        for layer, start in zip(network.layers, self.start_weights):
            # the bins span 99.5% of either; the few weights beyond go to the end bins
            limit = float(max(np.percentile(np.abs(w), 99.5) for w in (start, layer.weights)))
            edges = np.linspace(-limit, limit, HISTOGRAM_BINS + 1)
            now_counts = np.histogram(np.clip(layer.weights, -limit, limit), edges)[0]
            start_counts = np.histogram(np.clip(start, -limit, limit), edges)[0]
            moved = np.linalg.norm(layer.weights - start) / max(np.linalg.norm(start), 1e-12)
            layers.append(
                {
                    "limit": limit,
                    "now": now_counts.tolist(),
                    "start": start_counts.tolist(),
                    "moved": float(moved),
                }
            )
        return layers

    # -- for the page: called from the server threads ---------------------------------------------

    def control(self, request) -> dict:
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
                raise ControlError(f"unknown key {key!r}; use 'action' or 'learning_rate'")
            self.lock.notify_all()
            return self.state_locked()

    def act(self, action) -> None:
        if action not in ACTIONS:
            raise ControlError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
        if self.finished and action != "pause":
            raise ControlError(f"the training has finished; {action!r} has nothing to do")
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
        self.changes.append(self.event(action=action))

    def set_learning_rate(self, value) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ControlError(f"learning_rate must be a number, got {value!r}")
        if not (math.isfinite(value) and value > 0):
            raise ControlError(f"learning_rate must be a finite number > 0, got {value!r}")
        if self.finished:
            raise ControlError("the training has finished; the learning rate has nothing to do")
        self.requested_learning_rate = float(value)
        self.changes.append(self.event(learning_rate=float(value)))

    def event(self, **what) -> dict:
        return {"epoch": self.epoch, "batches_done": self.batches_done, **what}

    def state(self) -> dict:
        with self.lock:
            return self.state_locked()

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
            "finished": self.finished,
            "stopping": self.stopping,
            "learning_rate": self.requested_learning_rate or self.learning_rate,
            "history": [dict(h) for h in self.history],
            "changes": [dict(c) for c in self.changes],
            "seconds_per_epoch": per_epoch,
            "seconds_left": left,
            "loss_curve": list(self.loss_curve.points),
            "health": list(self.health.points),
            "histograms": self.histograms,
            "panel": self.panel_predictions,
            "snapshot": self.snapshot_version,
        }

    def weights_snapshot(self) -> tuple[int, bytes, float]:
        """(version, bytes, scale) of the first layer's weights in the latest snapshot; encoded
        once per snapshot, whichever tab asks."""
        with self.lock:
            version, weights = self.snapshot_version, self.network_copy.layers[0].weights
            if self.weights_cache is None or self.weights_cache[0] != version:
                self.weights_cache = (version, *first_layer_bytes(weights))
            return self.weights_cache

    def batch_snapshot(self) -> tuple[bytes, list[int]]:
        with self.lock:
            if self.batch_images is None:
                return b"", []
            return image_bytes(self.batch_images), list(self.batch_labels)

    def panel(self) -> dict:
        """The fixed validation digits (784 values 0-255 each) and their labels."""
        if self.panel_images is None:
            return {"images": [], "labels": []}
        pixels = np.rint(self.panel_images * 255).astype(int)
        return {"images": pixels.tolist(), "labels": self.panel_labels.tolist()}

    def drawing_network(self) -> nn.NeuralNetwork:
        """The network as it was at the latest snapshot, for the drawing pad (never the one
        being trained: its forward() would overwrite what backward() needs)."""
        with self.lock:
            return self.network_copy

    def finish(self) -> None:
        """The training ended (all epochs, or stopped): the page says so, controls are off."""
        with self.lock:
            self.finished, self.paused = True, False
            self.lock.notify_all()


# --- The page's server ------------------------------------------------------------------------
# GET /state[?since=N]  the run as JSON (see state()); with since, the curves' points after batch N
# POST /control         {"action": "pause" | "resume" | "step" | "epoch" | "stop"} or
#                       {"learning_rate": x}: 200 and the new state, or 400 naming the problem
# GET /weights          the first layer's weights, uint8, unit after unit (X-Units, X-Scale)
# GET /batch            images of the batch being trained on, uint8 (X-Labels)
# GET /panel            the fixed validation digits: {"images": [[784 x 0-255]], "labels"}
# POST /predict         the drawing page's answer, from the network as it is now

from http import HTTPStatus  # noqa: E402
from http.server import ThreadingHTTPServer  # noqa: E402
from pathlib import Path  # noqa: E402

import use_network as un  # noqa: E402

WATCH_DIR = Path(__file__).resolve().parent / "watch"
PAGE_FILES = {
    "/": (WATCH_DIR / "index.html", "text/html; charset=utf-8"),
    "/watch.js": (WATCH_DIR / "watch.js", "text/javascript; charset=utf-8"),
    "/watch.css": (WATCH_DIR / "watch.css", "text/css; charset=utf-8"),
    "/draw.js": (un.PAGE_DIR / "draw.js", "text/javascript; charset=utf-8"),
    "/draw.css": (un.PAGE_DIR / "draw.css", "text/css; charset=utf-8"),
}
MAX_CONTROL_BYTES = 1000


class WatchServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, watch: TrainingWatch, request_timeout=un.REQUEST_TIMEOUT):
        super().__init__(address, WatchHandler)
        self.watch, self.request_timeout = watch, request_timeout
        self.network_lock = threading.Lock()  # one drawing-pad forward pass at a time
        self.files = {url: (path.read_bytes(), kind) for url, (path, kind) in PAGE_FILES.items()}


class WatchHandler(un.DrawHandler):
    server: WatchServer

    def log_message(self, format, *args) -> None:
        pass  # a request line per poll would drown the training's own lines

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        watch = self.server.watch
        if path == "/state":
            match = re.fullmatch(r"(?:since=([0-9]{1,15}))?", query)
            if not match:
                self.send_error(HTTPStatus.BAD_REQUEST, "/state takes only ?since=N (a batch)")
                return
            state = watch.state()
            since = int(match[1] or 0)
            state["loss_curve"] = [p for p in state["loss_curve"] if p[0] > since]
            state["health"] = [h for h in state["health"] if h["batch"] > since]
            self.send_json(HTTPStatus.OK, state)
        elif query:
            self.send_error(HTTPStatus.NOT_FOUND, "no such page")
        elif path == "/weights":
            version, body, scale = watch.weights_snapshot()
            units = len(body) // nn.N_PIXELS
            headers = {"X-Snapshot": str(version), "X-Scale": f"{scale:.6g}", "X-Units": str(units)}
            self.send_body(HTTPStatus.OK, "application/octet-stream", body, headers)
        elif path == "/batch":
            body, labels = watch.batch_snapshot()
            headers = {"X-Labels": ",".join(map(str, labels))}
            self.send_body(HTTPStatus.OK, "application/octet-stream", body, headers)
        elif path == "/panel":
            self.send_json(HTTPStatus.OK, watch.panel())
        elif path in ("/control", "/predict"):
            self.refuse_method()
        elif path in self.server.files:
            body, content_type = self.server.files[path]
            headers = {"Content-Security-Policy": un.CONTENT_SECURITY_POLICY}
            self.send_body(HTTPStatus.OK, content_type, body, headers)
        else:
            self.send_error(HTTPStatus.NOT_FOUND, "no such page")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        try:
            if self.path == "/control":
                body = self.read_body()
                try:
                    request = json.loads(body)
                except (ValueError, RecursionError):
                    raise un.RequestError(HTTPStatus.BAD_REQUEST, "the body is not JSON") from None
                try:
                    answer = self.server.watch.control(request)
                except ControlError as error:
                    raise un.RequestError(HTTPStatus.BAD_REQUEST, str(error)) from None
            elif self.path == "/predict":
                body = self.read_body()
                network = self.server.watch.drawing_network()
                with self.server.network_lock:
                    answer = un.answer_image(network, 0.0, body)
            else:
                self.refuse_method()
                return
        except un.RequestError as error:
            self.send_error(error.status, str(error))
        except TimeoutError:
            self.send_error(HTTPStatus.REQUEST_TIMEOUT, "the request body did not arrive in time")
        except Exception as error:  # noqa: BLE001 (a bug: no details to the client, only the log)
            self.log_error("internal error on %s: %r", self.path, error)
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        else:
            self.send_json(HTTPStatus.OK, answer)

    def refuse_method(self) -> None:
        path = self.path.partition("?")[0]
        allowed = {"/control": "POST", "/predict": "POST"}.get(path)
        if allowed is None and (path in self.server.files or path in GET_PATHS):
            allowed = "GET, HEAD"
        if allowed is None:
            self.send_error(HTTPStatus.NOT_FOUND, "no such page")
            return
        self.send_error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{self.command} not allowed here; use {allowed}",
            extra_headers={"Allow": allowed},
        )

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse_method


GET_PATHS = ("/state", "/weights", "/batch", "/panel")
