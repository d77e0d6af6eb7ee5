"""A neural network from scratch in NumPy, trained on handwritten digits.

    python src/NN_Numpy.py            # train 784-128-64-10 on MNIST, evaluate, save, plot
    python src/NN_Numpy.py --help     # every training option, with its default

Read it top to bottom; every name is defined before it is used:
1. the data (normalised, split), 2. activations and loss, 3. FCLayer, 4. NeuralNetwork,
5. the optimizers and the learning-rate schedule, 6. the training loop, 7. evaluation,
8. plots, 9. main.
Beside it, in learning/: augment.py distorts the training images; negatives.py draws images
that are not digits, which the network learns to be unsure of (issue #20); run_checks.py,
command_line.py and plots.py check a run's settings, read its command line and draw its
figures. In files/: the files a run reads and writes, with the care a hostile file needs (the
data, model files, the run record). A call into learning/'s helpers other than augment and
negatives, or into files/ (`model_file.write_model`), is plumbing you may skip.
use_network.py does things with a trained network (your own photos, a Kaggle submission,
reports, a drawing page, gradient checks).
Shapes: B = batch size, N = number of images, 784 = 28 * 28 pixels, 10 digits.
Importing runs nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from files import class_names, model_file, outputs, paths, run_record, training_data
from files.class_names import DIGIT_NAMES
from files.errors import InputError
from files.kaggle_csv import N_CLASSES, N_PIXELS
from learning import augment, command_line, deskew, negatives, plots, run_checks, styles

# N_PIXELS = 28 * 28 inputs, N_CLASSES = 10 outputs, DIGIT_NAMES "0"-"9": from files/, which
# reads the data. scikit-learn (splitting) and matplotlib (plots) are imported inside the
# functions that use them: they take seconds to import, which --help should not.

DTYPE = np.float32  # single precision: twice the matrix-multiply speed of float64, plenty for SGD


# --- 1. The data: labelled images, normalised, split --------------------------------------------
# training_data.read_labelled reads Kaggle's Digit Recognizer train.csv (label,pixel0,...,pixel783;
# pixelK is row K // 28, column K % 28 of the 28 x 28 image), or MNIST's own IDX files, and
# checks every value: pixels (N, 784) uint8 0-255, and labels (N,) 0-9.


def normalize(pixels: np.ndarray) -> np.ndarray:
    """uint8 0-255 -> float32 0-1: inputs of order 1 suit the initial weights' scale."""
    return pixels.astype(DTYPE, order="C") / 255  # C order: each image one row in memory


def deskewed(data: dict) -> dict:
    """--deskew: every image straightened by its slant (learning/deskew.py), here for the data
    and in use for every image the model reads (using/digit_model.py)."""
    images = [key for key in ("X_train", "X_val", "X_test") if data.get(key) is not None]
    return data | {key: deskew.deskew(data[key]) for key in images}


def load_split(data_dir: Path | None, config) -> dict:
    """The labelled rows, normalised and split as the run's settings say (config.limit,
    val_fraction, train_on_all, seed): training_data.read_labelled's dict ("source", "path",
    "sha256", "rows", "shown", "classes", ...) with "X_train", "y_train", "X_val", "y_val"."""
    from sklearn.model_selection import train_test_split

    data, pixels, labels = training_data.read_labelled(data_dir, config.limit, normalize)
    if config.train_on_all:
        data |= {"X_train": normalize(pixels), "y_train": labels, "X_val": None, "y_val": None}
        return deskewed(data) if config.deskew else data
    try:  # split row numbers, then normalise each part: no full-size float copy in memory
        train_rows, val_rows = train_test_split(
            np.arange(len(labels)),
            test_size=config.val_fraction,
            stratify=labels,  # every digit in the same share in both parts
            random_state=config.seed,
        )
    except ValueError as error:  # e.g. --limit too small for a stratified split
        raise InputError(
            f"cannot split {len(labels)} rows into training and validation ({error}); "
            "use more rows (--limit) or another --val-fraction"
        ) from None
    data["X_train"] = normalize(pixels[train_rows])
    data["y_train"] = labels[train_rows]
    data["X_val"] = normalize(pixels[val_rows])
    data["y_val"] = labels[val_rows]
    return deskewed(data) if config.deskew else data


# --- 2. Activations and loss --------------------------------------------------------------------
# Each activation comes as a pair: forward(z) -> output, and backward(grad_output, output) ->
# dL/dz, the chain rule through the activation: dL/dz = dL/doutput * doutput/dz, written with
# the output because that is what the layer keeps. Every array here is (B, n), elementwise.


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)  # max(0, z), elementwise


def relu_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    return grad_output * (output > 0)  # d relu/dz = 1 where z > 0 (same as output > 0), else 0


def sigmoid(z: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-z), written as (1 + tanh(z / 2)) / 2, the same function: e^-z overflows
    # for z < -88 in float32, tanh never does
    return 0.5 * (1 + np.tanh(0.5 * z))  # in (0, 1), elementwise


def sigmoid_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    # d sigmoid/dz = s (1 - s), at most 0.25 (at z = 0): every sigmoid layer a gradient passes
    # down through shrinks it 4x or more. Stacked, the first layers barely learn: the
    # "vanishing gradient" that ReLU, whose slope is 1 where it is on, does not have.
    return grad_output * output * (1 - output)


def identity(z: np.ndarray) -> np.ndarray:
    return z


def identity_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    return grad_output


def log_softmax(logits: np.ndarray) -> np.ndarray:
    # softmax(z) = softmax(z - c) for any c; subtracting the row max keeps exp() <= 1,
    # so it never overflows, and log(sum(exp(.))) is the stable log-sum-exp.
    shifted = logits - logits.max(axis=1, keepdims=True)  # (B, 10) - (B, 1) -> (B, 10)
    sums = np.exp(shifted).sum(axis=1, keepdims=True)  # (B, 10) -> (B, 1)
    return shifted - np.log(sums)  # (B, 10) - (B, 1) -> (B, 10)


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))  # (B, 10), each row sums to 1


def one_hot(labels: np.ndarray, n_classes: int = N_CLASSES, dtype=DTYPE) -> np.ndarray:
    targets = np.zeros((len(labels), n_classes), dtype=dtype)  # (B, 10)
    targets[np.arange(len(labels)), labels] = 1  # (B, 10): row i, column labels[i] <- 1
    return targets


NOT_A_DIGIT = -1  # the label of a made-up image that is not a digit (src/learning/negatives.py)


def target_distributions(labels: np.ndarray, n_classes: int, dtype=DTYPE) -> np.ndarray:
    """(B,) labels -> (B, 10) targets: one-hot for a digit, and 1/10 for every class for
    NOT_A_DIGIT. Outlier exposure (Hendrycks et al., 2019): a softmax must spread its
    probability over the 10 digits whatever it is shown, so a network trained on digits alone
    answers a letter with a confident digit. Trained towards the uniform distribution on
    images that are not digits, it learns to be unsure of them: a low top probability then
    means "not a digit" (see not_a_digit_threshold)."""
    targets = np.full((len(labels), n_classes), 1 / n_classes, dtype=dtype)  # (B, 10)
    digits = labels != NOT_A_DIGIT  # (B,): True for a real digit
    targets[digits] = one_hot(labels[digits], n_classes, dtype)  # (D, 10) rows of one-hot
    return targets


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy -1/B sum_i sum_k t_ik log softmax(z_i)_k, and dLoss/dlogits, where
    t_i is image i's target distribution: one-hot for a digit, uniform for a non-digit. From
    the logits with log-sum-exp, not from probabilities: a probability that rounds to 0 gives
    a large finite loss instead of log(0) = -inf."""
    batch_size, n_classes = logits.shape
    log_probs = log_softmax(logits)  # (B, 10)
    targets = target_distributions(labels, n_classes, logits.dtype)  # (B, 10)
    loss = -(targets * log_probs).sum() / batch_size  # (B, 10) * (B, 10) -> sum -> a number
    # d/dz of -sum_k t_k log softmax(z)_k is softmax(z) - t for any targets t that sum to 1
    # (one-hot or uniform): softmax's Jacobian cancels the 1/p from the log (derived in
    # references/backprop.md, section 3). Dividing by B: the gradient of the *mean* loss.
    grad_logits = (np.exp(log_probs) - targets) / batch_size  # (B, 10)
    return float(loss), grad_logits


# name -> (forward, backward). The output layer has no activation of its own ("identity"): its
# outputs are the logits z, whose softmax is fused into the loss (softmax_cross_entropy), and
# it receives dL/dz = (probs - targets) / B straight from the loss.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (relu, relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "identity": (identity, identity_backward),
}
HIDDEN_ACTIVATIONS = ("relu", "sigmoid")  # --activation: the hidden layers'; relu, the default


# --- 3. One fully connected layer ---------------------------------------------------------------

INITS = ("he", "zero")  # --init: random weights at He's scale (the default), or all zero


class FCLayer:
    """output = activation(input @ weights + bias), for a batch of inputs at once."""

    def __init__(
        self, n_in: int, n_out: int, activation="relu", rng=None, dtype=DTYPE, init="he"
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {list(ACTIVATIONS)}")
        if rng is None:
            rng = np.random.default_rng()
        self.activation = activation
        self.activate, self.activate_backward = ACTIVATIONS[activation]
        # Random initial weights, so that the units differ, at a scale where signals neither
        # grow nor fade from layer to layer. z = input @ weights sums n_in terms: its variance
        # is n_in * std^2 * mean(input^2).
        # ReLU layers, He: std = sqrt(2 / n_in). The factor 2 makes up for a ReLU on the
        # layer's *inputs*, which zeroes about half of them and so halves mean(input^2). (The
        # first layer's inputs are pixels, not ReLU outputs; the same rule serves it well.)
        # The output layer, Glorot: std = sqrt(2 / (n_in + n_out)), a little smaller: the
        # first logits are small (std about 0.3), every class about as likely, and the first
        # loss near ln 10 = 2.30 (2.32-2.43 measured, seeds 0-2). Sigmoid layers get Glorot's
        # scale too: it was made for activations like it, with a slope near 1/4 around 0.
        # --init zero shows why the default is random (He): all-zero weights make every unit
        # of a layer compute the same thing and get the same gradient, so they stay the same
        # forever (and a ReLU at z = 0 passes no gradient at all: nothing below the logits
        # learns).
        if init == "zero":
            std = 0.0
        elif activation == "relu":
            std = np.sqrt(2 / n_in)
        else:
            std = np.sqrt(2 / (n_in + n_out))
        self.weights = (rng.standard_normal((n_in, n_out)) * std).astype(dtype)  # (n_in, n_out)
        self.bias = np.zeros(n_out, dtype=dtype)  # (n_out,)
        self.grad_weights = np.zeros_like(self.weights)  # (n_in, n_out), filled in by backward()
        self.grad_bias = np.zeros_like(self.bias)  # (n_out,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input = x  # (B, n_in), kept for grad_weights
        z = x @ self.weights + self.bias  # (B, n_in) @ (n_in, n_out) + (n_out,) -> (B, n_out)
        self.output = self.activate(z)  # (B, n_out), kept for the activation's derivative
        return self.output

    def backward(self, grad_output: np.ndarray, need_grad_input=True) -> np.ndarray | None:
        """From dL/doutput (B, n_out): store grad_weights and grad_bias, return dL/dinput. The
        first layer has nothing below it: it skips that multiply (need_grad_input=False)."""
        grad_z = self.activate_backward(grad_output, self.output)  # (B, n_out)
        self.grad_weights = self.input.T @ grad_z  # (n_in, B) @ (B, n_out) -> (n_in, n_out)
        self.grad_bias = grad_z.sum(axis=0)  # (B, n_out) -> (n_out,): the bias is in every row
        if not need_grad_input:
            return None
        return grad_z @ self.weights.T  # (B, n_out) @ (n_out, n_in) -> (B, n_in)


# --- 4. The network: layers stacked -------------------------------------------------------------

MAX_PARAMETERS = 50_000_000  # a model file claiming more is refused before allocating it


class NeuralNetwork:
    """A stack of FCLayers: hidden layers (ReLU, or sigmoid with --activation sigmoid), then the
    logits, whose softmax gives the class probabilities; trained on cross-entropy."""

    def __init__(
        self,
        layer_sizes=(N_PIXELS, 128, 64, N_CLASSES),
        seed=0,
        dtype=DTYPE,
        activation="relu",
        init="he",
    ) -> None:
        layer_sizes = [int(n) for n in layer_sizes]
        problem = model_file.layer_sizes_problem(layer_sizes, MAX_PARAMETERS)
        if problem:  # fewer than two sizes, one below 1, or too many parameters
            raise InputError(problem)
        pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))  # (n_in, n_out) of each layer
        rng = np.random.default_rng(seed)
        activations = [activation] * (len(pairs) - 1) + ["identity"]  # the last: the logits
        self.layers = [
            FCLayer(n_in, n_out, activation, rng, dtype, init)
            for (n_in, n_out), activation in zip(pairs, activations)
        ]
        self.layer_sizes = layer_sizes
        self.dtype = np.dtype(dtype)
        self.record: dict = {}  # the run record (settings, history, ...), saved with the weights

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(B, 784) -> (B, 10) logits; softmax(logits) are the class probabilities."""
        for layer in self.layers:
            x = layer.forward(x)  # (B, n_in) -> (B, n_out)
        return x

    def backward(self, grad_logits: np.ndarray, need_grad_input=False) -> np.ndarray | None:
        """Backpropagate dL/dlogits (B, 10): every layer stores its gradients. With
        need_grad_input, also return dL/dinput (B, 784): how each pixel moves the loss."""
        grad = grad_logits
        for i, layer in reversed(list(enumerate(self.layers))):
            # every layer but the first passes dL/dinput down; the first only when asked
            grad = layer.backward(grad, need_grad_input=i > 0 or need_grad_input)
        return grad

    def parameters(self) -> list[np.ndarray]:
        """Every weight and bias array, built on every call from the layers' current arrays: the
        optimizer updates these very arrays in place, and a new array given to a layer trains."""
        return [p for layer in self.layers for p in (layer.weights, layer.bias)]

    def gradients(self) -> list[np.ndarray]:
        """dL/dparameter for each array of parameters(), in the same order."""
        return [g for layer in self.layers for g in (layer.grad_weights, layer.grad_bias)]

    # -- using the trained network ---------------------------------------------------

    def check_input(self, X, y=None):
        """X as (N, 784) finite numbers in the network's dtype; y, if given, as N labels 0-9:
        X, or (X, y). Anything else is an InputError (the checks: run_checks.check_arrays)."""
        return run_checks.check_arrays(X, y, self.layer_sizes, self.dtype)

    def predict_logits(self, X, chunk_size=4096) -> np.ndarray:
        """(N, 784) pixels in [0, 1] -> (N, 10) logits, in chunks: bounded memory for any N."""
        X = self.check_input(X)
        chunks = [self.forward(X[i : i + chunk_size]) for i in range(0, len(X), chunk_size)]
        if not chunks:
            return np.empty((0, self.layer_sizes[-1]))
        return np.concatenate(chunks)

    def predict_proba(self, X) -> np.ndarray:
        """(N, 784) -> (N, 10) class probabilities, each row summing to 1."""
        return softmax(self.predict_logits(X))

    def predict(self, X) -> np.ndarray:
        """(N, 784) -> (N,) labels: the largest logit is the largest probability."""
        return self.predict_logits(X).argmax(axis=1)  # (N, 10) -> (N,)

    def accuracy(self, X, y) -> float:
        return float((self.predict(X) == np.asarray(y)).mean())  # (N,) == (N,) -> a share

    def evaluate(self, X, y) -> tuple[float, float]:
        """Mean cross-entropy loss (from the logits, stable) and accuracy on (X, y)."""
        log_probs = log_softmax(self.predict_logits(X))  # (N, 10)
        loss = -log_probs[np.arange(len(y)), y].mean()  # row i, column y[i]: (N,) -> a number
        accuracy = (log_probs.argmax(axis=1) == y).mean()  # (N, 10) -> (N,) -> a share
        return float(loss), float(accuracy)

    # -- saving and loading: one .npz holds the layer sizes, every weight and bias, and the run
    # record as JSON text: the model and its record are one file and can never disagree.

    def save(self, path: str | Path) -> None:
        layers = [(layer.weights, layer.bias) for layer in self.layers]
        model_file.write_model(path, self.layer_sizes, layers, self.record)

    @classmethod
    def load(cls, path: str | Path, dtype=DTYPE) -> NeuralNetwork:
        """Read a model written by save(). model_file.read_model checks every array before it is
        trusted (sizes, shapes, finite values) and never unpickles: read it there."""
        sizes, arrays, record = model_file.read_model(path, dtype, MAX_PARAMETERS)
        activation = run_record.hidden_activation(record)  # relu for a model saved before it
        network = cls(sizes, dtype=dtype, activation=activation)
        for layer, (weights, bias) in zip(network.layers, arrays):
            layer.weights = weights
            layer.bias = bias
        network.record = record
        return network


# --- 5. The optimizers and the learning-rate schedule -------------------------------------------
# An optimizer holds the learning rate and the state it keeps between steps; step() moves every
# parameter array, in place, by its rule. The training loop sets learning_rate every epoch.


class SGD:
    """Stochastic gradient descent with momentum and weight decay.

    velocity <- momentum * velocity + grad + weight_decay * param;  param -= lr * velocity
    Momentum keeps moving along directions that gradients agree on and averages out the
    zig-zag of noisy mini-batch gradients. weight_decay * param is the gradient of the L2
    penalty (wd / 2) * sum(param^2): it pulls every parameter towards 0, weights and biases
    alike, so that no pixel gets a huge say.
    """

    def __init__(self, learning_rate=0.1, momentum=0.0, weight_decay=0.0) -> None:
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocities: list[np.ndarray] = []  # one per parameter array, from the first step

    def step(self, params: list, grads: list) -> None:
        if not self.velocities:
            self.velocities = [np.zeros_like(param) for param in params]
        learning_rate = float(self.learning_rate)  # a NumPy float64 would make the step float64
        for param, grad, velocity in zip(params, grads, self.velocities):
            # each line elementwise, in the parameter's shape: (n_in, n_out) or (n_out,)
            velocity *= self.momentum  # in place: the optimizer's own array
            velocity += grad
            if self.weight_decay:
                velocity += self.weight_decay * param
            param -= learning_rate * velocity  # in place: the layer's own array moves


class Adam:
    """Adam: each parameter's step is scaled by a running estimate of its gradient's size
    (weight decay, if any, is added to the gradient first, as in SGD).

    m <- b1 m + (1 - b1) grad;  v <- b2 v + (1 - b2) grad^2   (running mean and mean square)
    param -= lr * m_hat / (sqrt(v_hat) + eps); m_hat, v_hat undo the bias of starting at 0.
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.m: list[np.ndarray] = []  # running mean of each gradient, from the first step
        self.v: list[np.ndarray] = []  # running mean of its square
        self.t = 0  # steps taken

    def step(self, params: list, grads: list) -> None:
        if not self.m:
            self.m = [np.zeros_like(param) for param in params]
            self.v = [np.zeros_like(param) for param in params]
        self.t += 1
        learning_rate = float(self.learning_rate)  # a NumPy float64 would make the step float64
        for param, grad, m, v in zip(params, grads, self.m, self.v):
            grad = grad + self.weight_decay * param  # elementwise, in the parameter's shape
            m += (1 - self.beta1) * (grad - m)  # = b1 m + (1 - b1) grad
            v += (1 - self.beta2) * (grad * grad - v)
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            param -= learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "constant")


def learning_rate_at(epoch: int, config) -> float:
    """The learning rate of epoch `epoch` (0-based): cosine decay from config.learning_rate, the
    peak, towards 0, lr * (1 + cos(pi * epoch / epochs)) / 2, or constant. Large steps early
    cover ground; small steps late settle in a minimum instead of bouncing around it."""
    if config.schedule == "constant":
        return config.learning_rate
    return config.learning_rate * 0.5 * (1 + float(np.cos(np.pi * epoch / config.epochs)))


# --- 6. Training --------------------------------------------------------------------------------


def setting(default, meaning: str, choices=None):
    """A TrainConfig field: its default, what it means and, if listed, the values allowed. It
    is also the command-line option of the same name (--batch-size for batch_size), with this
    default and this meaning as its help (python src/NN_Numpy.py -h)."""
    return field(default=default, metadata={"help": meaning, "choices": choices})


@dataclass
class TrainConfig:
    """The settings of a training run, each with its default and what it means."""

    epochs: int = setting(100, "passes over the training set")
    batch_size: int = setting(128, "images per update step")
    optimizer: str = setting("sgd", "update rule", OPTIMIZERS)
    learning_rate: float = setting(0.1, "peak learning rate (Adam: try 0.001)")
    momentum: float = setting(0.9, "SGD momentum in [0, 1); 0 is plain SGD")
    schedule: str = setting("cosine", "learning rate over epochs", SCHEDULES)
    weight_decay: float = setting(1e-4, "L2 penalty on the parameters")
    shift: int = setting(2, "augmentation: move each training image by up to this many pixels")
    affine: float = setting(1.0, "augmentation: rotate 12 degrees, scale 0.1, shear 0.15, x this")
    elastic: float = setting(
        1.5, "augmentation: warp each training image by up to this RMS, pixels"
    )
    negatives: float = setting(0.03, "made-up non-digits trained on, as a share of the rows")
    styles: float = setting(0.0, "digits drawn in styles MNIST lacks, a share of the rows")
    deskew: bool = setting(False, "straighten every image by its slant, in training and in use")
    hidden: tuple = setting((128, 64), "hidden layer sizes")
    activation: str = setting("relu", "the hidden layers' activation", HIDDEN_ACTIVATIONS)
    init: str = setting("he", "initial weights: random at He's scale, or all zero", INITS)
    val_fraction: float = setting(0.2, "share of labelled rows held out for validation")
    train_on_all: bool = setting(False, "train on every labelled row, no validation (final model)")
    limit: int | None = setting(None, "use only the first N labelled rows")
    seed: int = setting(0, "random seed: weights, split, shuffling, augmentation")

    def __post_init__(self) -> None:
        self.hidden = tuple(self.hidden)
        run_checks.check_settings(self)  # each in its range, or a ValueError naming the option


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class StopTraining(Exception):
    """Raised by a hook to end training early: train() returns the history so far."""


class TrainingHook:
    """What train() tells a watcher (such as a live page), after every step and every epoch.
    This one does nothing; a watcher overrides either method. Inside one it may read
    everything, block (to pause), set optimizer.learning_rate (used from the next batch on,
    and the schedule goes on from it), or raise StopTraining."""

    def train_started(self, network, X_train, y_train, X_val, y_val) -> None:
        """Before the first batch: the network as initialised, and the data."""

    def batch_done(self, images, labels, loss, network, optimizer) -> None:
        """After the optimizer's step: the batch's images (B, 784), as distorted, its labels
        (B,) and loss; the network keeps this batch's layer outputs and gradients."""

    def epoch_done(self, stats: dict, network, optimizer) -> None:
        """After the epoch's evaluation: stats is the epoch's entry in the history."""

    def diverged(self, message: str, network, optimizer) -> None:
        """The loss is no longer finite (message says where); train() raises TrainingDiverged
        next, unless the hook raises StopTraining (the run then ends as if stopped)."""

    def record(self) -> dict:
        """What run_training adds to the run record (e.g. the page's controls, and when)."""
        return {}


def train(network, X_train, y_train, X_val=None, y_val=None, config=None, log=print, hook=None):
    """Mini-batch training (SGD or Adam) for config.epochs epochs; returns the history, per epoch
    a dict of loss, learning_rate, seconds and val_loss, val_accuracy. The network keeps the last
    epoch's weights: nothing is chosen on the validation rows, so their accuracy is honest.
    hook: a TrainingHook, told of every step and epoch (None: nobody is told)."""
    if config is None:
        config = TrainConfig()
    if hook is None:
        hook = TrainingHook()  # does nothing
    X_train, y_train = network.check_input(X_train, y_train)
    if X_val is not None:
        X_val, y_val = network.check_input(X_val, y_val)
    rng = np.random.default_rng(config.seed)  # shuffling and augmentation, reproducible
    if config.styles > 0:
        # Domain shift: digits in styles MNIST's writers rarely use (4s closed at the top, 1s
        # with a flag, crossed 7s...), drawn with a random pen, labelled with their digit.
        n_styles = round(config.styles * len(X_train))
        X_styles, y_styles = styles.make(n_styles, rng, deskewed=config.deskew)  # (S, 784), (S,)
        X_train = np.concatenate([X_train, X_styles])  # (N + S, 784)
        y_train = np.concatenate([y_train, y_styles])  # (N + S,)
    if config.negatives > 0:
        # Outlier exposure: images that are not digits (letters, scribbles, blobs...), labelled
        # NOT_A_DIGIT, join the training rows; their target is 1/10 for every digit (see
        # target_distributions), and the distortions warp them anew every epoch like the digits.
        n_negatives = round(config.negatives * len(X_train))
        X_negatives = negatives.make(n_negatives, rng, deskewed=config.deskew)  # (M, 784)
        X_train = np.concatenate([X_train, X_negatives])  # (N + M, 784)
        y_negatives = np.full(n_negatives, NOT_A_DIGIT)  # (M,)
        y_train = np.concatenate([y_train, y_negatives])  # (N + M,)
    if config.optimizer == "adam":
        optimizer = Adam(config.learning_rate, weight_decay=config.weight_decay)
    else:
        optimizer = SGD(config.learning_rate, config.momentum, config.weight_decay)
    history = []
    hook.train_started(network, X_train, y_train, X_val, y_val)
    scale = 1.0  # a rate a hook set, relative to the schedule's (1: none did)
    try:
        for epoch in range(1, config.epochs + 1):
            start = time.perf_counter()
            scheduled = learning_rate_at(epoch - 1, config)  # 0-based: epoch 1 has the peak
            learning_rate = scheduled * scale
            optimizer.learning_rate = learning_rate
            losses = []
            # augment.batches: with the distortions on, a second thread distorts the next batch
            # while this one trains, and BLAS keeps to one thread meanwhile (said why there)
            batches = augment.batches(X_train, config, rng)
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is caught below
                for batch, (rows, x) in enumerate(batches, start=1):  # 1. shuffled, distorted
                    labels = y_train[rows]  # (B,), and x: (B, 784)
                    logits = network.forward(x)  # 2. forward: (B, 784) -> (B, 10), then the loss
                    loss, grad_logits = softmax_cross_entropy(logits, labels)
                    if not np.isfinite(loss):  # NaN would spread to every weight: stop now
                        why = run_checks.divergence_message(loss, epoch, batch, config)
                        hook.diverged(why, network, optimizer)
                        raise TrainingDiverged(why)
                    # 3. backward: dL/dparameter for every layer, by the chain rule
                    network.backward(grad_logits)
                    # 4. step: every parameter moves a little against its gradient
                    optimizer.step(network.parameters(), network.gradients())
                    losses.append(loss)
                    hook.batch_done(x, labels, loss, network, optimizer)
            train_loss = float(np.mean(losses))
            stats = {"epoch": epoch, "loss": train_loss, "learning_rate": learning_rate}
            line = f"Epoch {epoch}/{config.epochs}, Loss: {train_loss:.4f}"
            if X_val is not None:
                val_loss, val_accuracy = network.evaluate(X_val, y_val)
                stats["val_loss"] = val_loss
                stats["val_accuracy"] = val_accuracy
                line += f", Val Loss: {stats['val_loss']:.4f}"
                line += f", Val Accuracy: {100 * stats['val_accuracy']:.2f}%"
            stats["seconds"] = time.perf_counter() - start
            log(f"{line}, LR: {learning_rate:.4g}, Time: {stats['seconds']:.2f}s")
            history.append(stats)
            hook.epoch_done(stats, network, optimizer)
            scale = optimizer.learning_rate / scheduled  # a hook's change carries on
    except StopTraining:
        log(f"Stopped early: {len(history)} of {config.epochs} epochs done")
    return history


# --- 7. Evaluation ------------------------------------------------------------------------------
# The printed accuracy is the last epoch's weights on the validation rows: rows the network
# never trained on, and nothing was chosen by looking at them.


def not_sure_threshold(probs: np.ndarray, labels: np.ndarray, target=0.995) -> float:
    """The lowest top probability t such that, of the answers given with probability >= t, a
    share `target` is right; use_network answers "not sure" below it (inf: never sure)."""
    top = probs.max(axis=1)  # (N, 10) -> (N,)
    order = np.argsort(-top, kind="stable")  # (N,): most confident first
    right = probs.argmax(axis=1)[order] == labels[order]  # (N,), in that order
    share_right = np.cumsum(right) / np.arange(1, len(top) + 1)  # (N,): of the k + 1 surest
    top = top[order]
    last_of_tie = np.append(top[:-1] > top[1:], True)  # ">= t" takes all ties
    good = np.flatnonzero(last_of_tie & (share_right >= target))
    if len(good) == 0:
        return float("inf")
    return float(top[good[-1]])


def not_a_digit_threshold(probs: np.ndarray, not_sure: float, share=0.002) -> float:
    """The top probability below which only a share `share` of real digits fall (2 in 1,000),
    and never above the not-sure threshold; digit_model.verdict says "not a digit" below it. A
    network trained on non-digits (outlier exposure) gives them a low top probability, so they
    fall below it, while the digits it is merely unsure of stay "not sure"."""
    top = probs.max(axis=1)  # (N, 10) -> (N,)
    return float(min(np.quantile(top, share), not_sure))


# --- 8. Plots -----------------------------------------------------------------------------------


def plot_predictions(images, labels, predicted, path: Path, what="validation", names=None):
    """The first len(predicted) images and the class predicted; mistakes in red with the truth."""
    n = len(predicted)
    names = names or DIGIT_NAMES
    wrong = predicted != labels[:n]
    true = [f"\n(true {names[t]})" if w else "" for t, w in zip(labels, wrong)]
    captions = [names[p] + t for p, t in zip(predicted, true)]
    colors = ["red" if w else "black" for w in wrong]
    title = f"Predictions on {what} images ({int(wrong.sum())} of {n} wrong, in red)"
    return plots.plot_digit_grid(images[:n], captions, colors, title, path)


def plot_training_curves(history: list[dict], path: Path):
    """Loss per epoch (training and validation) and validation accuracy per epoch."""
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    ax_loss.plot(epochs, [h["loss"] for h in history], label="training")
    if "val_loss" in history[0]:
        ax_loss.plot(epochs, [h["val_loss"] for h in history], label="validation")
        ax_acc.plot(epochs, [100 * h["val_accuracy"] for h in history], color="tab:green")
    ax_loss.set(title="Cross-entropy loss", xlabel="epoch", ylabel="loss", yscale="log")
    ax_loss.legend()
    ax_acc.set(title="Validation accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    outputs.save_figure(fig, path)
    return fig


# --- 9. Main: python src/NN_Numpy.py [options] --------------------------------------------------


def run_training(config: TrainConfig, args, argv: list[str], hook=None) -> int:
    """Load and split the data, train, evaluate, save the model with its record, plot.
    hook: a TrainingHook for train(); if it stops training early, the model is still saved,
    and its record says so."""
    figures = command_line.check_run_outputs(args)  # before any work: no output overwrites an input
    data = load_split(args.data_dir, config)
    X_train = data["X_train"]
    y_train = data["y_train"]
    X_val = data["X_val"]
    y_val = data["y_val"]
    print(f"Data: {data['shown']}")
    names = data["classes"]
    if args.classes:  # --classes digits | fashion | a file of 10 names
        names = class_names.class_names(args.classes)
    print("Classes: " + ", ".join(names))
    if X_val is None:
        print(f"Training on all {len(y_train):,} rows (--train-on-all: no validation split)")
    else:
        print(f"Split: {len(y_train):,} training, {len(y_val):,} validation rows (stratified)")
    sizes = [N_PIXELS, *config.hidden, N_CLASSES]
    network = NeuralNetwork(sizes, config.seed, activation=config.activation, init=config.init)
    n_parameters = sum(p.size for p in network.parameters())
    print(f"Network: {'-'.join(map(str, sizes))}, {n_parameters:,} parameters")
    print("Training: " + ", ".join(f"{k}={v}" for k, v in asdict(config).items()))
    versions = run_record.package_versions()  # now, not after training: nothing may cost the model
    start = time.perf_counter()
    try:
        history = train(network, X_train, y_train, X_val, y_val, config, hook=hook)
    except TrainingDiverged as error:
        print(f"error: {error}. No model was saved.", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    if not history:  # stopped before the first epoch ended: a model that has not learned
        why = "the training was stopped before its first epoch ended: nothing was learned"
        print(f"error: {why}. No model was saved.", file=sys.stderr)
        return 1

    # Evaluate the last epoch's weights, on validation rows they never trained on nor were
    # chosen by; with --train-on-all there are none, and the training rows stand in.
    if X_val is None:
        X_eval = X_train
        y_eval = y_train
        eval_set = "training"
        note = " (no validation split)"
    else:
        X_eval = X_val
        y_eval = y_val
        eval_set = "validation"
        note = ""
    loss, accuracy = network.evaluate(X_eval, y_eval)
    print(f"{eval_set.capitalize()} Accuracy: {100 * accuracy:.2f}%{note}")
    metrics = {"evaluated_on": eval_set, "accuracy": accuracy, "loss": loss, "seconds": seconds}
    probs = network.predict_proba(X_eval)  # (N, 10)
    not_sure = not_sure_threshold(probs, y_eval)
    not_a_digit = not_a_digit_threshold(probs, not_sure)
    metrics["not_sure_threshold"] = not_sure
    metrics["not_a_digit_threshold"] = not_a_digit
    # 1,000 made-up non-digits never trained on (their own random stream): how many are refused?
    others_rng = np.random.default_rng([config.seed, 1])  # their own stream
    others = negatives.make(1000, others_rng, deskewed=config.deskew)  # (1000, 784)
    others_top = network.predict_proba(others).max(axis=1)  # (1000, 10) -> (1000,)
    metrics["negatives_not_a_digit"] = float((others_top < not_a_digit).mean())
    metrics["negatives_answered"] = float((others_top >= not_sure).mean())
    refused = 100 * metrics["negatives_not_a_digit"]
    answered = 100 * metrics["negatives_answered"]
    print(f"Made-up non-digits: {refused:.1f}% 'not a digit', {answered:.1f}% answered a digit")
    if "y_test" in data:  # the official test set: never trained on, nor chosen by
        test_accuracy = network.accuracy(data["X_test"], data["y_test"])
        metrics["test_accuracy"] = test_accuracy
        n_test = len(data["y_test"])
        print(f"Test Accuracy: {100 * test_accuracy:.2f}% ({n_test:,} labelled test rows)")

    network.record = run_record.run_record(
        argv, asdict(config), data, names, versions=versions, history=history, metrics=metrics
    )
    if hook is not None:
        network.record |= hook.record()
    network.save(args.model)
    print(f"Model and run record saved to {paths.display_path(args.model)}")
    if not args.no_plots:
        predicted = network.predict(X_eval[:32])  # (32, 784) -> (32,)
        plot_predictions(X_eval, y_eval, predicted, figures["predictions"], eval_set, names)
        if history:
            plot_training_curves(history, figures["training_curves"])
        more = "more: python src/use_network.py report"
        print(f"Figures saved to {paths.display_path(args.figures_dir)}/ ({more})")
        plots.show_figures_if_possible()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = command_line.build_parser(fields(TrainConfig))
    if argv is None:
        argv = sys.argv[1:]
    argv = list(argv)
    args = parser.parse_args(argv)
    try:
        settings = {setting.name: getattr(args, setting.name) for setting in fields(TrainConfig)}
        config = TrainConfig(**settings)
    except ValueError as error:
        parser.error(str(error))  # exits with status 2, after the usage line
    return command_line.report_errors(lambda: run_training(config, args, argv))


if __name__ == "__main__":
    sys.exit(main())
