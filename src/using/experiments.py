"""Experiments side by side: the runner behind `python src/use_network.py compare`.

A comparison trains two or more variants of the network, each a set of NN_Numpy.py's own
options, together: each in its own process with one BLAS thread, one per core. Without the
distortions two variants train an epoch as fast as one alone; with them (the default) a run
alone already keeps the second core busy warping images, so two take about twice as long
(references/measurements.md, "Experiments side by side"). Every variant is exactly the run
`python src/NN_Numpy.py` with its options gives (the same seed: the same data, split,
batches and numbers), run by NN_Numpy.run_training itself, and saved like one, model and run
record, under a name that says which variant it is. Its progress (each epoch's figures, the
first layer's weights, each layer's gradient size, the points maps) comes back to this
process through a bounded queue.

    variants = plan("relu-vs-sigmoid", LESSONS["relu-vs-sigmoid"].variants, ["--epochs", "5"])
    statuses = run(variants, progress.receive)      # progress: a Comparison; blocks until done
    results = evaluate(variants, statuses, handwriting_set(path))

With the distortions on (the default), NN_Numpy.py trains with one BLAS thread anyway (see
learning/augment.py), and a variant's weights are the very bits of a direct run. Without them,
a direct run multiplies on all cores, and the last bits differ from a variant's: the variant
equals `OPENBLAS_NUM_THREADS=1 python src/NN_Numpy.py ...` to the bit.

It runs a little over the layout's ~500 lines a module: the lessons, the plan, the variants'
processes and the comparison they report to are one story, read in that order.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import queue as queues
import re
import shlex
import signal
import sys
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import NN_Numpy as nn
from files import paths
from files.errors import InputError
from files.outputs import check_outputs
from learning import command_line
from using import digit_model, photos, points_map

LESSON_EPOCHS = 10  # a ready lesson's epochs, unless its command line says --epochs
QUEUE_SIZE = 64  # messages from the variants waiting for this process at most (each <= 0.5 MB
# but a variant's first, with the map's 1,000 digits: 1.2 MB)
PROGRESS_SECONDS = 0.5  # a variant says how far into its epoch it is at most this often
GRADIENT_EVERY = 20  # a variant measures its layers' gradient size every this many batches
MAX_VARIANTS = 6
MAX_HANDWRITING = 10_000  # images read from a handwriting set at most
# ../shared/data/handwriting_dev beside the project, or beside a worktree's folder (as
# benchmarks/real_world.py looks for it)
HANDWRITING_SETS = [
    paths.PROJECT_ROOT.parent / "shared" / "data" / "handwriting_dev",
    paths.PROJECT_ROOT.parent.parent / "shared" / "data" / "handwriting_dev",
]
NO_DISTORTIONS = ["--shift", "0", "--affine", "0", "--elastic", "0"]


@dataclass(frozen=True)
class Lesson:
    """A ready experiment: what differs, and what to look for on the page."""

    title: str
    look_for: str
    variants: dict[str, list[str]]  # label -> NN_Numpy.py options (the first: the default)


LESSONS = {
    "relu-vs-sigmoid": Lesson(
        "ReLU or sigmoid hidden units",
        "the sigmoid's slope is at most 1/4, so less gradient reaches its first layer (the "
        "gradient panel: in epoch 1 about 4x less than the ReLU's): its loss falls later, and "
        "it ends behind on validation and on handwriting",
        {"relu": [], "sigmoid": ["--activation", "sigmoid"]},
    ),
    "he-vs-zero": Lesson(
        "random (He) or all-zero initial weights",
        "all-zero weights: every unit computes the same and gets the same gradient (with ReLU, "
        "none at all), so all 128 weight pictures stay identical and blank, and accuracy "
        "stays near 11%",
        {"he": [], "zero": ["--init", "zero"]},
    ),
    "learning-rate": Lesson(
        "learning rate 0.1, 3 and 1000",
        "at 3 the first steps overshoot: the loss leaps, the ReLUs die and it stays at "
        "chance; at 1000 the loss overflows and the trainer stops with a one-line report "
        "(shown as that variant's result)",
        {"lr-0.1": [], "lr-3": ["--learning-rate", "3"], "lr-1000": ["--learning-rate", "1000"]},
    ),
    "momentum": Lesson(
        "SGD with momentum 0.9 or without",
        "without momentum each step is the gradient alone: the loss falls more slowly at the "
        "same learning rate, and ends higher after the same epochs",
        {"momentum-0.9": [], "no-momentum": ["--momentum", "0"]},
    ),
    "distortions": Lesson(
        "training images distorted (moved, turned, warped) or as they are",
        "without them the training loss falls far lower (the images are easier) but "
        "validation does not: at 5 epochs both read as well (97.4%); they pay in long runs "
        "(98.7% against 97.6% at 100, measurements.md): try --epochs 30, and the handwriting",
        {"distorted": [], "plain": NO_DISTORTIONS},
    ),
    "hidden-sizes": Lesson(
        "hidden layers of 128 and 64 units, or 32 and 16",
        "the small network has a quarter of the parameters and takes less time an epoch, but "
        "ends less accurate; its 32 weight pictures each look for more at once",
        {"128-64": [], "32-16": ["--hidden", "32", "16"]},
    ),
}


class VariantError(InputError):
    """A comparison that cannot start: its one line says which variant and why."""


@dataclass
class Variant:
    """One variant of a comparison: its letter (A, B, ...), label, options (the command line
    of NN_Numpy.py that gives this very run) and where its model is saved."""

    letter: str
    label: str
    options: list[str]  # as given: what differs
    argv: list[str]  # the whole command line of NN_Numpy.py, --model and --no-plots included
    model: Path
    config: nn.TrainConfig = field(repr=False)

    @property
    def name(self) -> str:
        return f"{self.letter} {self.label}"

    @property
    def options_text(self) -> str:
        return shlex.join(self.options) or "the defaults"


def slug(text: str, limit: int = 40) -> str:
    """Options as a file-name part: "--hidden 32 16" -> "hidden-32-16"; "" -> "default"."""
    part = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")[:limit].strip("-.")
    return part or "default"


def parse_options(argv: list[str], what: str):
    """NN_Numpy.py's own parser and settings' checks on argv: (args, TrainConfig), or a
    VariantError naming `what` and the problem, as NN_Numpy.py would say it."""
    parser = command_line.build_parser(fields(nn.TrainConfig))

    def refuse(message: str):
        raise VariantError(f"{what}: {message}")

    parser.error = refuse  # argparse calls it for a bad option; it must not exit
    args = parser.parse_args(argv)
    try:
        settings = {setting.name: getattr(args, setting.name) for setting in fields(nn.TrainConfig)}
        return args, nn.TrainConfig(**settings)
    except ValueError as error:
        refuse(str(error))


def plan(
    experiment: str, variants: dict[str, list[str]], common: list[str], models_dir: Path
) -> list[Variant]:
    """The variants of a comparison, each checked as NN_Numpy.py checks its options, with its
    model's path, models_dir/compare-<experiment>-<letter>-<label>.npz; `common`: options for
    every variant, before its own. A VariantError if any cannot run; nothing is written."""
    if not 2 <= len(variants) <= MAX_VARIANTS:
        raise VariantError(
            f"a comparison needs 2 to {MAX_VARIANTS} variants, got {len(variants)}; name a "
            'lesson, or give --variant "OPTIONS" two or more times'
        )
    parse_options(common, f"the options for every variant ({shlex.join(common)})")
    planned = []
    for letter, (label, options) in zip("ABCDEF", variants.items()):
        if any(option == "--model" or option.startswith("--model=") for option in options):
            raise VariantError(
                f"variant {letter} ({shlex.join(options)}): --model is chosen by compare "
                "(models/compare-...); use --models-dir to save them elsewhere"
            )
        model = Path(models_dir) / f"compare-{slug(experiment)}-{letter}-{slug(label)}.npz"
        argv = [*common, *options, "--model", str(model), "--no-plots"]
        shown = shlex.join(options) or "no options of its own"
        args, config = parse_options(argv, f"variant {letter} ({shown})")
        planned.append(Variant(letter, label, list(options), argv, model, config))
        if args.data_dir:
            folders = [args.data_dir]
        else:
            folders = [paths.KAGGLE_DATA_DIR, paths.BUNDLED_DATA_DIR]
        check_outputs([model], paths.data_files(folders))  # never over a file a run reads
    check_outputs([v.model for v in planned], [])  # and no two variants in one file
    return planned


def lesson_options(common: list[str]) -> list[str]:
    """A ready lesson's options for every variant: `common`, after --epochs LESSON_EPOCHS
    unless it says --epochs itself (or --ep, --epo...: argparse takes a unique prefix)."""
    names = [option.split("=")[0] for option in common]
    if any(len(name) >= 4 and "--epochs".startswith(name) for name in names):
        return list(common)
    return ["--epochs", str(LESSON_EPOCHS), *common]


def custom_variants(options: list[str]) -> dict[str, list[str]]:
    """--variant "OPTIONS" given on the command line -> {label: options}, each label the
    options as a file-name part."""
    variants = {}
    for text in options:
        try:
            split = shlex.split(text)
        except ValueError as error:  # an unclosed quote
            raise VariantError(f"--variant {text!r}: {error}") from None
        label = slug(" ".join(split))
        while label in variants:
            label += "-again"
        variants[label] = split
    return variants


# --- In each variant's process -----------------------------------------------------------------


class LineWriter(io.TextIOBase):
    """sys.stdout or sys.stderr of a variant's process: each whole line a message."""

    def __init__(self, send, stream: str) -> None:
        self.send, self.stream, self.pending = send, stream, ""

    def write(self, text: str) -> int:
        lines = (self.pending + text).split("\n")
        self.pending = lines.pop()
        for line in lines:
            self.send({"kind": "line", "stream": self.stream, "text": line})
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.send({"kind": "line", "stream": self.stream, "text": self.pending})
            self.pending = ""


class ProgressHook(nn.TrainingHook):
    """A variant's hook: it only reads. After every epoch it sends the epoch's figures, the
    first layer's weights, each layer's gradient size (RMS of dL/dW, the mean of every
    GRADIENT_EVERY-th batch) and the points maps of a fixed sample of validation digits, with
    the network's answer for each; at the start, that sample's labels and images."""

    def __init__(self, send, batch_size: int) -> None:
        self.send, self.batch_size = send, batch_size
        self.batches = 0
        self.next_progress = 0.0
        self.gradients: list[list[float]] = []
        self.map_images = self.map_labels = None
        self.maps = points_map.MapSeries()

    def train_started(self, network, X_train, y_train, X_val, y_val) -> None:
        batches_per_epoch = -(-len(X_train) // self.batch_size)
        message = {"kind": "started", "batches_per_epoch": batches_per_epoch}
        if X_val is not None:
            rows = points_map.map_sample(y_val)
            self.map_images, self.map_labels = X_val[rows], y_val[rows]
            message["map_labels"] = self.map_labels.astype(np.int8)
            message["map_images"] = points_map.image_bytes(self.map_images)  # 784 bytes each
        self.send(message | self.pictures(network))

    def batch_done(self, images, labels, loss, network, optimizer) -> None:
        self.batches += 1
        if self.batches % GRADIENT_EVERY == 1:
            with np.errstate(over="ignore", invalid="ignore"):
                rms = [
                    float(np.sqrt(np.mean(np.square(layer.grad_weights))))
                    for layer in network.layers
                ]
            self.gradients.append(rms)
        now = time.monotonic()
        if now >= self.next_progress:
            self.next_progress = now + PROGRESS_SECONDS
            self.send({"kind": "progress", "batches_done": self.batches}, block=False)

    def epoch_done(self, stats: dict, network, optimizer) -> None:
        gradient = np.mean(self.gradients, axis=0).tolist() if self.gradients else []
        self.gradients = []
        message = {"kind": "epoch", "stats": dict(stats), "gradient": gradient}
        self.send(message | self.pictures(network))

    def pictures(self, network) -> dict:
        """The first layer's weights (784, n) and, with validation rows, the maps."""
        pictures = {"weights": network.layers[0].weights.copy()}
        if self.map_images is not None:
            copied = copy.deepcopy(network)  # layer_points leaves its rows in the layers
            points = points_map.layer_points(copied, self.map_images)
            if all(np.isfinite(p).all() for p in points.values()):
                maps = self.maps.update(points)
                pictures["maps"] = {name: xy.astype(np.float32) for name, xy in maps.items()}
                predicted, probability = points_map.answers(points["output"])
                pictures["map_predicted"] = predicted.astype(np.int8)
                pictures["map_probability"] = probability.astype(np.float32)
        return pictures


def train_variant(index: int, argv: list[str], messages) -> None:
    """A variant's process: NN_Numpy.py's main with these options, its hook sending progress,
    its printed lines sent too, with one BLAS thread; then a last message with its status.
    It ignores Ctrl-C (see run()); run() stops it with SIGTERM, which report_errors raises
    as KeyboardInterrupt: nothing half-written is kept, and its status is 130, said by the
    comparison's process once for all the variants."""

    def send(message: dict, block: bool = True) -> None:
        with contextlib.suppress(queues.Full):  # only progress is sent with block=False
            messages.put({"variant": index, **message}, block=block)

    sys.stdout, sys.stderr = LineWriter(send, "stdout"), LineWriter(send, "stderr")
    status = 1
    try:
        with threadpool_limits(1):  # one core each: a BLAS pool of two would share it
            parser = command_line.build_parser(fields(nn.TrainConfig))
            args = parser.parse_args(argv)  # plan() checked them: they parse
            settings = {s.name: getattr(args, s.name) for s in fields(nn.TrainConfig)}
            config = nn.TrainConfig(**settings)
            hook = ProgressHook(send, config.batch_size)

            def run() -> int:
                try:
                    return nn.run_training(config, args, argv, hook=hook)
                except KeyboardInterrupt:  # stopped by run(): 130, without report_errors' line
                    return 130

            status = command_line.report_errors(run)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        send({"kind": "done", "status": status})


# --- In this process ---------------------------------------------------------------------------


def run(variants: list[Variant], receive, context: str = "spawn") -> list[int]:
    """Train the variants at once, one process each (multiprocessing's `context`), calling
    receive(message) in a thread of this process for every message they send ({"variant": i,
    "kind": "line" | "started" | "progress" | "epoch" | "done", ...}). Returns their exit
    statuses (0: trained and saved; 1: failed, its error line sent; 130: interrupted).

    Ctrl-C (or SIGTERM) is this process's alone: the variants start ignoring SIGINT, which a
    terminal sends to every process of the command, and this one stops them all at once when
    it gets it (SIGTERM, see train_variant), waits until they have, and raises it.
    multiprocessing is imported here: importing it names __main__ __mp_main__ too, which
    a command that starts no process should not do."""
    import multiprocessing
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context(context)
    messages = ctx.Queue(QUEUE_SIZE)
    processes = [
        ctx.Process(target=train_variant, args=(i, v.argv, messages), daemon=True)
        for i, v in enumerate(variants)
    ]
    statuses: dict[int, int] = {}
    stop_pumping = threading.Event()

    def pump() -> None:  # until every variant has said it is done, or has gone
        while not stop_pumping.is_set() or len(statuses) < len(processes):
            try:
                message = messages.get(timeout=0.1)
            except queues.Empty:
                if stop_pumping.is_set():
                    return
                continue
            if message["kind"] == "done":
                statuses[message["variant"]] = message["status"]
            receive(message)

    pumping = threading.Thread(target=pump, daemon=True)
    pumping.start()
    start_ignoring_ctrl_c(processes)
    interrupted = False
    try:
        pending = [p.sentinel for p in processes]
        while pending:
            ready = wait(pending)
            pending = [s for s in pending if s not in ready]
    except KeyboardInterrupt:
        interrupted = True
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: KeyboardInterrupt there, at once
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():  # stuck: killed (a temporary file the next run removes)
                process.kill()
    for process in processes:
        process.join()
    stop_pumping.set()
    pumping.join(timeout=10)
    if interrupted:
        raise KeyboardInterrupt
    return [statuses.get(i, process.exitcode or 1) for i, process in enumerate(processes)]


def start_ignoring_ctrl_c(processes) -> None:
    """Start the processes with SIGINT ignored: they ignore Ctrl-C all their life (an ignored
    signal stays ignored in a new program, and Python leaves it so), even while they import.
    Only the main thread may change a handler; from another one they start as they are."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: it gets no Ctrl-C either
        previous = None
    try:
        for process in processes:
            process.start()  # a few milliseconds each, in which a Ctrl-C here is lost
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class Comparison:
    """What the variants have sent so far, kept for the page, and their lines echoed to the
    terminal, each after its variant's name. receive() is run's callback; the page's threads
    read the rest. Thread-safe; bounded (the latest weights and maps only)."""

    def __init__(self, experiment: str, title: str, look_for: str, variants, echo=True) -> None:
        self.lock = threading.Lock()
        self.experiment, self.title, self.look_for, self.echo = experiment, title, look_for, echo
        self.variants = [
            {
                "name": v.name,
                "letter": v.letter,
                "label": v.label,
                "options": v.options_text,
                "model": paths.display_path(v.model),
                "epochs": v.config.epochs,
                "status": "starting",  # then training, trained, failed, interrupted
                "batches_done": 0,
                "batches_per_epoch": 0,
                "epoch": 0,
                "history": [],
                "gradient": [],  # per epoch, per layer: RMS of dL/dW
                "error": None,  # its last error line, if it failed
                "snapshot": 0,  # counts the weights (and maps) received
            }
            for v in variants
        ]
        self.weights: list[np.ndarray | None] = [None] * len(variants)
        self.maps: list[dict | None] = [None] * len(variants)
        # each variant's map sample (its own: a variant with another --seed splits otherwise)
        self.map_labels: list[np.ndarray | None] = [None] * len(variants)
        self.map_images: list[bytes | None] = [None] * len(variants)  # 784 bytes a digit
        self.results: list[dict] | None = None
        self.handwriting = ""  # what the handwriting set is, or why there is none
        self.finished = False

    def receive(self, message: dict) -> None:
        i, kind = message["variant"], message["kind"]
        with self.lock:
            variant = self.variants[i]
            if kind == "line":
                if message["stream"] == "stderr" and message["text"].strip():
                    variant["error"] = message["text"].removeprefix("error: ")
            elif kind == "progress":
                variant["batches_done"] = message["batches_done"] - variant["epoch"] * max(
                    variant["batches_per_epoch"], 1
                )
            elif kind == "done":
                statuses = {0: "trained", 130: "interrupted"}
                variant["status"] = statuses.get(message["status"], "failed")
            else:  # started, epoch: the pictures
                if kind == "started":
                    variant["status"] = "training"
                    variant["batches_per_epoch"] = message["batches_per_epoch"]
                    if "map_labels" in message:
                        self.map_labels[i] = message["map_labels"]
                        self.map_images[i] = message["map_images"]
                else:
                    variant["epoch"] += 1
                    variant["batches_done"] = 0
                    variant["history"].append(json_ready(message["stats"]))
                    variant["gradient"].append(json_ready(message["gradient"]))
                self.weights[i] = message["weights"]
                if "maps" in message:
                    self.maps[i] = {
                        "layers": message["maps"],
                        "predicted": message["map_predicted"],
                        "probability": message["map_probability"],
                        "epoch": variant["epoch"],
                    }
                variant["snapshot"] += 1
        if kind == "line" and self.echo:
            stream = sys.stderr if message["stream"] == "stderr" else sys.stdout
            print(f"{variant['name']}: {message['text']}", file=stream, flush=True)

    def state(self) -> dict:
        with self.lock:
            return {
                "experiment": self.experiment,
                "title": self.title,
                "look_for": self.look_for,
                "variants": copy.deepcopy(self.variants),
                "results": copy.deepcopy(self.results),
                "handwriting": self.handwriting,
                "finished": self.finished,
                "map_layers": next((list(m["layers"]) for m in self.maps if m), []),
            }

    def latest_weights(self, i: int) -> tuple[int, np.ndarray] | None:
        with self.lock:
            weights = self.weights[i]
            return None if weights is None else (self.variants[i]["snapshot"], weights)

    def latest_maps(self, i: int) -> dict | None:
        """Variant i's latest maps: {"epoch", "layers": {name: (n, 2)}, "labels",
        "predicted", "probability"}, or None before its first."""
        with self.lock:
            return self.maps[i] and self.maps[i] | {"labels": self.map_labels[i]}

    def latest_map_images(self, i: int) -> bytes | None:
        """Variant i's map digits, 784 bytes each, in the order of its maps' points."""
        with self.lock:
            return self.map_images[i] if self.maps[i] else None

    def finish(self, results: list[dict]) -> None:
        with self.lock:
            self.results, self.finished = results, True


def json_ready(value):
    """Numbers for JSON, which has no NaN nor infinity: None for those."""
    if isinstance(value, dict):
        return {key: json_ready(v) for key, v in value.items()}
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def handwriting_set(folder: Path | None):
    """(images (N, 784), labels (N,)) of a handwriting set (labels.csv: file,label,...), each
    image read as `predict` reads a photo; None when there is no such folder. A broken set is
    an InputError, as any bad file is."""
    if folder is None or not Path(folder).is_dir():
        return None
    folder = Path(folder)
    labels_file = folder / "labels.csv"
    if not labels_file.is_file():
        raise InputError(f"{labels_file}: no such file; a handwriting set lists file,label")
    images, labels = [], []
    with labels_file.open(newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if len(labels) >= MAX_HANDWRITING:
                break
            name, label = row.get("file") or "", row.get("label") or ""
            if Path(name).name != name or not name or not re.fullmatch("[0-9]", label):
                raise InputError(
                    f"{labels_file}, line {line}: expected a file name in this folder and a "
                    f"digit 0-9, got {name[:40]!r}, {label[:10]!r}"
                )
            image = photos.preprocess_image(folder / name)
            images.append(np.zeros(nn.N_PIXELS, nn.DTYPE) if image is None else image)
            labels.append(int(label))
    if not labels:
        raise InputError(f"{labels_file} lists no images")
    return np.array(images), np.array(labels)


def evaluate(variants: list[Variant], statuses: list[int], handwriting) -> list[dict]:
    """Each variant's result: its saved model read back as `predict` reads it, its accuracy
    on its validation rows (from its run record) and on the handwriting set (best guess
    right), or why it has none."""
    results = []
    for variant, status in zip(variants, statuses):
        result = {"variant": variant.name, "model": paths.display_path(variant.model)}
        if status != 0 or not variant.model.is_file():
            results.append(result | {"failed": True})
            continue
        network = digit_model.load_model(variant.model)
        metrics = network.record.get("metrics", {})
        if metrics.get("evaluated_on") == "validation":
            result["validation_accuracy"] = metrics["accuracy"]
        if handwriting is not None:
            X, y = handwriting
            result["handwriting_accuracy"] = network.accuracy(X, y)
            result["handwriting_images"] = len(y)
        results.append(result | {"failed": False})
    return results
