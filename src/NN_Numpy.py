"""A neural network from scratch in NumPy, trained on handwritten digits.

    python src/NN_Numpy.py            # train 784-128-64-10 on MNIST, evaluate, save, plot
    python src/NN_Numpy.py --help     # every training option, with its default

Read it top to bottom: 1. activations and loss, 2. FCLayer, 3. NeuralNetwork, 4. training,
5. data, 6. plots, 7. main. What you do with a trained network (your own photos, a Kaggle
submission, a report, a drawing page, gradient checks) is in src/use_network.py. Shapes: B =
batch size, N = number of images, 784 = 28 * 28 pixels, 10 digits. Importing runs nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from file_io import InputError

# pandas (CSV parsing), scikit-learn (splitting) and matplotlib (plots) are imported inside
# the functions that use them: together they take ~3 s to import, which --help should not.

DTYPE = np.float32  # single precision: twice the matrix-multiply speed of float64, plenty for SGD
N_PIXELS = 28 * 28
N_CLASSES = 10
DIGIT_NAMES = list("0123456789")  # the class names, unless the data or --classes name others


# --- 1. Activations and loss --------------------------------------------------------------------
# Each activation comes as a pair: forward(z) -> output, and backward(grad_output, output) ->
# dL/dz, the chain rule through the activation: dL/dz = dL/doutput * doutput/dz, written with
# the output because that is what the layer keeps. Every array here is (B, n), elementwise.


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)  # max(0, z), elementwise


def relu_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    return grad_output * (output > 0)  # da/dz = 1 where z > 0 (same as a > 0), else 0


def identity(z: np.ndarray) -> np.ndarray:
    return z


def identity_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    return grad_output


def log_softmax(logits: np.ndarray) -> np.ndarray:
    # softmax(z) = softmax(z - c) for any c; subtracting the row max keeps exp() <= 1,
    # so it never overflows, and log(sum(exp(.))) is the stable log-sum-exp.
    shifted = logits - logits.max(axis=1, keepdims=True)  # (B, 10) - (B, 1) -> (B, 10)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (B, 10) - (B, 1)


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))  # (B, 10), each row sums to 1


def one_hot(labels: np.ndarray, n_classes: int = N_CLASSES, dtype=DTYPE) -> np.ndarray:
    targets = np.zeros((len(labels), n_classes), dtype=dtype)
    targets[np.arange(len(labels)), labels] = 1  # (B, 10): row i, column labels[i] <- 1
    return targets


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy -1/B sum_i log softmax(z_i)[y_i], and dLoss/dlogits. From the logits
    with log-sum-exp, not from probabilities: a probability that rounds to 0 gives a large
    finite loss instead of log(0) = -inf."""
    batch_size, n_classes = logits.shape
    log_probs = log_softmax(logits)  # (B, 10)
    targets = one_hot(labels, n_classes, logits.dtype)  # (B, 10)
    loss = -(targets * log_probs).sum() / batch_size  # (B, 10) * (B, 10) -> sum -> a number
    # d/dz of -log softmax(z)[y] is softmax(z) - onehot(y): softmax's Jacobian cancels the
    # 1/p from the log (derived in references/backprop.md, section 3). Dividing by B: the
    # gradient of the *mean* loss.
    grad_logits = (np.exp(log_probs) - targets) / batch_size  # (B, 10)
    return float(loss), grad_logits


# name -> (forward, backward). The output layer has no activation of its own ("identity"): its
# outputs are the logits z, whose softmax is fused into the loss (softmax_cross_entropy), and
# it receives dL/dz = (probs - onehot) / B straight from the loss.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (relu, relu_backward),
    "identity": (identity, identity_backward),
}


# --- 2. One fully connected layer ---------------------------------------------------------------


class FCLayer:
    """output = activation(input @ weights + bias), for a batch of inputs at once."""

    def __init__(self, n_in: int, n_out: int, activation="relu", rng=None, dtype=DTYPE) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {list(ACTIVATIONS)}")
        rng = np.random.default_rng() if rng is None else rng
        self.activation = activation
        self.activate, self.activate_backward = ACTIVATIONS[activation]
        # Initial weights keep the signal's variance about the same from layer to layer:
        # He (std sqrt(2 / n_in)) for ReLU, which zeroes half its inputs;
        # Glorot (std sqrt(2 / (n_in + n_out))) for the output layer.
        std = np.sqrt(2 / n_in) if activation == "relu" else np.sqrt(2 / (n_in + n_out))
        self.weights = (rng.standard_normal((n_in, n_out)) * std).astype(dtype)  # (n_in, n_out)
        self.bias = np.zeros(n_out, dtype=dtype)  # (n_out,)
        self.grad_weights = np.zeros_like(self.weights)  # filled in by backward()
        self.grad_bias = np.zeros_like(self.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input = x  # (B, n_in), kept for grad_weights
        z = x @ self.weights  # (B, n_in) @ (n_in, n_out) -> (B, n_out)
        z += self.bias  # (B, n_out) + (n_out,): added to every row, in place (no second array)
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


# --- 3. The network: layers stacked -------------------------------------------------------------

MAX_PARAMETERS = 50_000_000  # a model file claiming more is refused before allocating it


class NeuralNetwork:
    """A stack of FCLayers: ReLU hidden layers, then the logits, whose softmax gives the class
    probabilities; trained on cross-entropy."""

    def __init__(self, layer_sizes=(N_PIXELS, 128, 64, N_CLASSES), seed=0, dtype=DTYPE) -> None:
        layer_sizes = [int(n) for n in layer_sizes]
        if len(layer_sizes) < 2 or min(layer_sizes) < 1:
            raise InputError(f"layer sizes must be at least two numbers >= 1, got {layer_sizes}")
        n_parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(layer_sizes, layer_sizes[1:]))
        if n_parameters > MAX_PARAMETERS:  # weights and biases
            raise InputError(f"layer sizes {layer_sizes}: over {MAX_PARAMETERS:,} parameters")
        rng = np.random.default_rng(seed)
        activations = ["relu"] * (len(layer_sizes) - 2) + ["identity"]  # the last: logits
        specs = zip(layer_sizes[:-1], layer_sizes[1:], activations)  # (n_in, n_out, activation)
        self.layers = [FCLayer(n_in, n_out, act, rng, dtype) for n_in, n_out, act in specs]
        self.layer_sizes, self.dtype = layer_sizes, np.dtype(dtype)
        self.record: dict = {}  # the run record, saved with the weights (see run_training)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(B, 784) -> (B, 10) logits; softmax(logits) are the class probabilities."""
        for layer in self.layers:
            x = layer.forward(x)
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

    def update(self, optimizer: SGD | Adam, learning_rate: float) -> None:
        """One step of gradient descent on every parameter, by the optimizer's rule."""
        optimizer.step(self.parameters(), self.gradients(), learning_rate)

    # -- using the trained network ---------------------------------------------------

    def check_input(self, X, y=None):
        """X as (N, 784) finite numbers in the network's dtype; y, if given, as N labels."""
        X, (n_in, n_classes) = np.asarray(X), (self.layer_sizes[0], self.layer_sizes[-1])
        if X.ndim != 2 or X.shape[1] != n_in:
            raise InputError(f"expected an array (N, {n_in}) of pixels in [0, 1], got {X.shape}")
        if X.dtype.kind not in "biuf":
            raise InputError(f"expected real numbers, got dtype {X.dtype}")
        if not np.isfinite(X).all():
            raise InputError("input contains NaN or infinite values")
        if y is None:
            return X.astype(self.dtype, copy=False)
        y = np.asarray(y)
        if y.shape != (len(X),):
            raise InputError(f"expected {len(X)} labels, one per image, got shape {y.shape}")
        if y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() >= n_classes)):
            raise InputError(f"labels must be whole numbers 0-{n_classes - 1}")
        return X.astype(self.dtype, copy=False), y

    def predict_logits(self, X, chunk_size=4096) -> np.ndarray:
        """(N, 784) pixels in [0, 1] -> (N, 10) logits, in chunks: bounded memory for any N."""
        X = self.check_input(X)
        chunks = [self.forward(X[i : i + chunk_size]) for i in range(0, len(X), chunk_size)]
        return np.concatenate(chunks) if chunks else np.empty((0, self.layer_sizes[-1]))

    def predict_proba(self, X) -> np.ndarray:
        """(N, 784) -> (N, 10) class probabilities, each row summing to 1."""
        return softmax(self.predict_logits(X))

    def predict(self, X) -> np.ndarray:
        """(N, 784) -> (N,) labels: the largest logit is the largest probability."""
        return self.predict_logits(X).argmax(axis=1)

    def accuracy(self, X, y) -> float:
        return float((self.predict(X) == np.asarray(y)).mean())

    def evaluate(self, X, y) -> tuple[float, float]:
        """Mean cross-entropy loss (from the logits, stable) and accuracy on (X, y)."""
        log_probs = log_softmax(self.predict_logits(X))  # (N, 10)
        loss = -log_probs[np.arange(len(y)), y].mean()
        return float(loss), float((log_probs.argmax(axis=1) == y).mean())

    # -- saving and loading: one .npz holds the layer sizes, every weight and bias, and the run
    # record as JSON text: the model and its record are one file and can never disagree.

    def save(self, path: str | Path) -> None:
        arrays = {"layer_sizes": np.array(self.layer_sizes), "record": json.dumps(self.record)}
        for i, layer in enumerate(self.layers):
            arrays[f"weights_{i}"], arrays[f"bias_{i}"] = layer.weights, layer.bias
        with atomic_write(path) as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | Path, dtype=DTYPE) -> NeuralNetwork:
        """Read a model written by save(). file_io.read_model checks every array before it is
        trusted (sizes, shapes, finite values) and never unpickles: read it there."""
        from file_io import read_model

        sizes, arrays, record = read_model(path, dtype, MAX_PARAMETERS)
        network = cls(sizes, dtype=dtype)
        for layer, (weights, bias) in zip(network.layers, arrays):
            layer.weights, layer.bias = weights, bias
        network.record = record
        return network


# --- 4. Training --------------------------------------------------------------------------------


def option(default, help: str, **argparse_options):
    """A TrainConfig field that is also the command-line option --field-name, with this help."""
    return field(default=default, metadata={"help": help, **argparse_options})


@dataclass
class TrainConfig:
    """The settings of a training run. Each field is an option of python src/NN_Numpy.py
    with the same name, default and help: one source of truth."""

    epochs: int = option(100, "passes over the training set")
    batch_size: int = option(128, "images per update step")
    optimizer: str = option("sgd", "update rule", choices=["sgd", "adam"])
    learning_rate: float = option(0.1, "peak learning rate (Adam: try 0.001)", aliases=["--lr"])
    momentum: float = option(0.9, "SGD momentum in [0, 1); 0 is plain SGD")
    schedule: str = option("cosine", "learning rate over epochs", choices=["cosine", "constant"])
    weight_decay: float = option(1e-4, "L2 penalty on the parameters")
    shift: int = option(2, "augmentation: move each training image by up to this many pixels")
    affine: float = option(1.0, "augmentation: rotate 12 degrees, scale 0.1, shear 0.15, x this")
    elastic: float = option(1.5, "augmentation: warp each training image by up to this RMS, pixels")
    hidden: tuple = option((128, 64), "hidden layer sizes", nargs="+", type=int)
    val_fraction: float = option(0.2, "share of labelled rows held out for validation")
    train_on_all: bool = option(False, "train on every labelled row, no validation (final model)")
    limit: int | None = option(None, "use only the first N labelled rows", type=int)
    seed: int = option(0, "random seed: weights, split, shuffling, augmentation")

    def __post_init__(self) -> None:
        """Refuse settings that cannot train, naming the command-line option."""
        self.hidden = tuple(self.hidden)
        rules = [
            ("epochs", self.epochs >= 1, "must be >= 1"),
            ("batch_size", self.batch_size >= 1, "must be >= 1"),
            ("optimizer", self.optimizer in ("sgd", "adam"), "must be 'sgd' or 'adam'"),
            ("learning_rate", 0 < self.learning_rate < np.inf, "must be > 0"),
            ("momentum", 0 <= self.momentum < 1, "must be in [0, 1)"),
            ("schedule", self.schedule in ("cosine", "constant"), "must be cosine or constant"),
            ("weight_decay", 0 <= self.weight_decay < np.inf, "must be >= 0"),
            ("shift", 0 <= self.shift < 28, "must be 0-27 pixels (the image is 28 pixels wide)"),
            *[(k, 0 <= getattr(self, k) <= 10, "must be 0-10") for k in ("affine", "elastic")],
            ("hidden", all(1 <= n <= 10_000 for n in self.hidden), "sizes must be 1-10000"),
            ("val_fraction", 0 < self.val_fraction < 1, "must be in (0, 1)"),
            ("limit", self.limit is None or self.limit >= 1, "must be >= 1"),
            ("seed", 0 <= self.seed < 2**32, "must be 0 to 2**32 - 1"),
        ]
        for name, ok, rule in rules:
            if not ok:
                raise ValueError(f"--{name.replace('_', '-')} {rule}, got {getattr(self, name)}")


class SGD:
    """Stochastic gradient descent with momentum and weight decay.

    velocity <- momentum * velocity + grad + weight_decay * param;  param -= lr * velocity
    Momentum keeps moving along directions that gradients agree on and averages out the
    zig-zag of noisy mini-batch gradients. weight_decay * param is the gradient of the L2
    penalty (wd / 2) * sum(param^2): it pulls weights towards 0, so no pixel gets a huge say.
    """

    def __init__(self, momentum=0.0, weight_decay=0.0) -> None:
        self.momentum, self.weight_decay = momentum, weight_decay
        self.velocities: list[np.ndarray] = []  # one per parameter array, from the first step

    def step(self, params: list, grads: list, learning_rate: float) -> None:
        if not self.velocities:
            self.velocities = [np.zeros_like(param) for param in params]
        learning_rate = float(learning_rate)  # np.float64 * float32 array would be float64: slow
        for param, grad, velocity in zip(params, grads, self.velocities):
            velocity *= self.momentum  # in place: no new arrays per step
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

    def __init__(self, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0) -> None:
        self.beta1, self.beta2, self.eps, self.weight_decay = beta1, beta2, eps, weight_decay
        self.m, self.v, self.t = [], [], 0  # running mean, mean square, steps taken

    def step(self, params: list, grads: list, learning_rate: float) -> None:
        if not self.m:
            self.m, self.v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
        self.t += 1
        for param, grad, m, v in zip(params, grads, self.m, self.v):
            grad = grad + self.weight_decay * param
            m += (1 - self.beta1) * (grad - m)  # = b1 m + (1 - b1) grad
            v += (1 - self.beta2) * (grad * grad - v)
            m_hat, v_hat = m / (1 - self.beta1**self.t), v / (1 - self.beta2**self.t)
            param -= float(learning_rate) * m_hat / (np.sqrt(v_hat) + self.eps)


def learning_rate_at(epoch: int, config: TrainConfig) -> float:
    """Cosine decay lr * (1 + cos(pi * epoch / epochs)) / 2 from the peak towards 0, or constant:
    large steps early cover ground; small steps late settle in a minimum, not bounce around it."""
    if config.schedule == "constant":
        return config.learning_rate
    return config.learning_rate * 0.5 * (1 + float(np.cos(np.pi * epoch / config.epochs)))


# (3, 784): each pixel's x and y, measured from the image's centre, and a 1 (for the shift)
XY1 = np.vstack([np.indices((28, 28))[::-1].reshape(2, -1) - 13.5, np.ones((1, N_PIXELS))])


def random_distortions(n: int, config: TrainConfig, rng, n_fields=16) -> tuple:
    """Augmentation, new every epoch: pixel (x, y) (from the centre) reads the input at
    x_src = a x + b y + c + dx(x, y), y_src = d x + e y + f + dy(x, y): affine + smooth warp (K
    fields mixed by w). Returns coefficients (n, 6 + K) and basis (6 + K, 2 * 784) of that sum."""
    angle, zoom, shear = rng.uniform(-1, 1, (3, n)) * config.affine * [[np.pi / 15], [0.1], [0.15]]
    a, d = np.cos(angle) * (1 + zoom), np.sin(angle) * (1 + zoom)  # up to 12 degrees, 10%
    tx, ty = rng.integers(-config.shift, config.shift + 1, (2, n))  # moved right: read the left
    w = rng.standard_normal((n, n_fields)) * rng.uniform(0, config.elastic, (n, 1))  # (n, K)
    # [[a, b], [d, e]] = (1 + zoom) rotation @ [[1, shear], [0, 1]]; 15.5: the padded image's centre
    coefficients = np.column_stack([a, a * shear - d, 15.5 - tx, d, d * shear + a, 15.5 - ty, w])
    g = np.exp(-((np.arange(28) - np.arange(28)[:, None]) ** 2) / 50)  # (28, 28): blur, 5 px
    fields = (g @ rng.standard_normal((n_fields, 2, 28, 28)) @ g.T).reshape(n_fields, -1)
    fields /= np.sqrt(2 * n_fields * (fields**2).mean(axis=1, keepdims=True))  # w @ fields: RMS w
    return coefficients.astype(DTYPE), np.vstack([np.kron(np.eye(2), XY1), fields]).astype(DTYPE)


def warp(images: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Images (B, 32, 32), framed in zeros, read at points xy (B, 2 * 784), bilinearly: (B, 784)."""
    xy = np.clip(xy, 1, 30, out=xy).reshape(len(images), 2, N_PIXELS)  # outside: the zero frame
    corner = np.floor(xy)  # (B, 2, 784), float32: float32 - int32 would compute in float64
    fx, fy = np.subtract(xy, corner, out=xy).transpose(1, 0, 2)  # (B, 784) each: right of, below
    # (B, 784): where each top-left corner is in images.ravel(), image b starting at b * 32 * 32
    index = (corner[:, 1] * 32 + corner[:, 0]).astype(np.intp) + np.arange(len(xy))[:, None] * 1024
    v00, v01, v10, v11 = (np.take(images.ravel()[i:], index) for i in (0, 1, 32, 33))  # corners
    # top = v00 + fx (v01 - v00), linear along x, then bottom, then along y; in place: no new arrays
    top = np.add(v00, np.multiply(fx, np.subtract(v01, v00, out=v01), out=v01), out=v01)
    bot = np.add(v10, np.multiply(fx, np.subtract(v11, v10, out=v11), out=v11), out=v11)
    return np.add(top, np.multiply(fy, np.subtract(bot, top, out=bot), out=bot), out=bot)


def batches(X: np.ndarray, padded: np.ndarray, config: TrainConfig, rng) -> Iterator:
    """(rows, images) per batch of a new order; a second thread warps them ahead while this one
    trains. Draws stay here: seed-exact. One BLAS thread each: two on a core wait on each other."""
    rows = np.split(rng.permutation(len(X)), range(config.batch_size, len(X), config.batch_size))
    if not (config.shift or config.affine or config.elastic):
        yield from ((r, X[r]) for r in rows)
        return
    coefficients, basis = random_distortions(len(X), config, rng)  # (N, 6 + K), (6 + K, 1568)
    with ThreadPoolExecutor(1) as worker, threadpool_limits(1, user_api="blas"):
        yield from zip(rows, worker.map(lambda r: warp(padded[r], coefficients[r] @ basis), rows))


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


def train(network, X_train, y_train, X_val=None, y_val=None, config=None, log=print) -> list:
    """Mini-batch training (SGD or Adam) for config.epochs epochs; returns the history, per epoch
    a dict of loss, learning_rate, seconds and val_loss, val_accuracy. The network keeps the last
    epoch's weights: nothing is chosen on the validation rows, so their accuracy is honest."""
    config = config or TrainConfig()
    X_train, y_train = network.check_input(X_train, y_train)
    if X_val is not None:
        X_val, y_val = network.check_input(X_val, y_val)
    rng = np.random.default_rng(config.seed)  # shuffling and augmentation, reproducible
    optimizer = SGD(config.momentum, config.weight_decay)
    if config.optimizer == "adam":
        optimizer = Adam(weight_decay=config.weight_decay)
    padded = np.pad(X_train.reshape(-1, 28, 28), [(0, 0), (2, 2), (2, 2)])  # (N, 32, 32), 0 around
    history = []
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        learning_rate = learning_rate_at(epoch - 1, config)  # 0-based: epoch 1 has the peak
        losses = []
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is caught below
            for rows, x in batches(X_train, padded, config, rng):  # 1. shuffled, distorted anew
                logits = network.forward(x)  # 2. forward: (B, 784) -> (B, 10), then the loss
                loss, grad_logits = softmax_cross_entropy(logits, y_train[rows])
                # 3. backward: dL/dparameter for every layer, by the chain rule
                network.backward(grad_logits)
                # 4. update: every parameter takes a small step against its gradient
                network.update(optimizer, learning_rate)
                losses.append(loss)
        train_loss = float(np.mean(losses))
        if not np.isfinite(train_loss):
            name, value = "learning_rate", config.learning_rate
            if (
                config.weight_decay > 0.01 and value * config.weight_decay >= 0.01
            ):  # decay overshoots
                name, value = "weight_decay", config.weight_decay
            raise TrainingDiverged(
                f"the training loss became {train_loss} in epoch {epoch}; try a smaller "
                f"{name.replace('_', ' ')} (--{name.replace('_', '-')} {value / 10:g})"
            )
        stats = {"epoch": epoch, "loss": train_loss, "learning_rate": learning_rate}
        line = f"Epoch {epoch}/{config.epochs}, Loss: {train_loss:.4f}"
        if X_val is not None:
            stats["val_loss"], stats["val_accuracy"] = network.evaluate(X_val, y_val)
            line += f", Val Loss: {stats['val_loss']:.4f}"
            line += f", Val Accuracy: {100 * stats['val_accuracy']:.2f}%"
        stats["seconds"] = time.perf_counter() - start
        log(f"{line}, LR: {learning_rate:.4g}, Time: {stats['seconds']:.2f}s")
        history.append(stats)
    return history


# --- 5. Data: Kaggle's Digit Recognizer CSVs ----------------------------------------------------
# train.csv: label,pixel0,...,pixel783 (label 0-9, pixels 0-255); test.csv: no label.
# pixelK is row K // 28, column K % 28 of the 28 x 28 image.

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DATA_DIR = PROJECT_ROOT / "data" / "external" / "mnist"
KAGGLE_DATA_DIR = PROJECT_ROOT / "data" / "raw"
MODEL_PATH = PROJECT_ROOT / "models" / "mnist_mlp.npz"
FIGURES_DIR = PROJECT_ROOT / "reports" / "figures"
PIXEL_COLUMNS = [f"pixel{k}" for k in range(N_PIXELS)]


def find_data_file(name: str, data_dir: str | Path | None = None) -> Path:
    """name.csv[.gz] from data_dir; by default Kaggle's in data/raw/, else the bundled copy."""
    folders = [Path(data_dir)] if data_dir is not None else [KAGGLE_DATA_DIR, BUNDLED_DATA_DIR]
    for folder in folders:
        for candidate in (folder / f"{name}.csv", folder / f"{name}.csv.gz"):
            if candidate.exists() and not candidate.is_file():  # a pipe would block forever
                raise InputError(f"{candidate} is not a regular file (a folder, pipe or device)")
            if candidate.is_file():
                return candidate
    looked = ", ".join(str(f / f"{name}.csv[.gz]") for f in folders)
    raise InputError(
        f"no {name} data found (looked for {looked}); put Kaggle's {name}.csv in "
        f"{KAGGLE_DATA_DIR} or pass --data-dir with the folder that holds it"
    )


def read_digits_csv(path, labelled=True, columns=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Parse and check a Digit Recognizer CSV: pixels (N, 784) uint8, labels (N,) or None.
    Any problem raises InputError naming the file, the line and the column."""
    import pandas as pd

    from file_io import BoundedFile, csv_problem  # file checks and diagnosis, next door

    path, columns = Path(path), columns or (["label"] if labelled else []) + PIXEL_COLUMNS
    # utf-8-sig: a spreadsheet's byte-order mark is not part of the first column's name
    csv_options = dict(encoding="utf-8-sig", index_col=False)
    try:
        with warnings.catch_warnings(), BoundedFile(path) as f1, BoundedFile(path) as f2:
            warnings.simplefilter("error")  # pandas' warnings (extra fields, lossy casts) too
            # The header first: a wrong file is refused before all of it is parsed. Then uint8:
            # pandas refuses any value that is not a whole number 0-255, or is missing.
            valid = list(pd.read_csv(f1, nrows=0, **csv_options).columns) == columns
            values = pd.read_csv(f2, dtype=np.uint8, **csv_options).to_numpy() if valid else None
        valid = valid and len(values) > 0 and (not labelled or values[:, 0].max() < N_CLASSES)
    except InputError:
        raise
    except (ValueError, Warning, OSError, EOFError):
        valid = False
    if not valid:  # find out what is wrong and where: slow, so only on error
        raise InputError(csv_problem(path, columns, csv_options))
    pixels = values[:, -N_PIXELS:]  # (N, 785) -> (N, 784): the label column, if any, dropped
    labels = values[:, 0].astype(np.int64) if labelled else None  # (N,)
    # pandas hands over columns (Fortran order); rows must be contiguous for fast batch gathers
    return np.ascontiguousarray(pixels), labels


def normalize(pixels: np.ndarray) -> np.ndarray:
    """uint8 0-255 -> float32 0-1: inputs of order 1 suit the initial weights' scale."""
    return np.multiply(pixels, DTYPE(1 / 255), dtype=DTYPE, order="C")  # C order: image per row


def display_path(path: Path) -> str:
    """A path relative to the project when it is inside it, for short messages."""
    with contextlib.suppress(ValueError):
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    return str(path)


def load_split(data_dir: Path | None, config: TrainConfig) -> dict:
    """The labelled rows normalised and split as config says: {"source", "path", "sha256", "rows",
    "X_train", "y_train", "X_val", "y_val"}, and more from file_io.read_folder (see there)."""
    from sklearn.model_selection import train_test_split

    if data_dir and not list(Path(data_dir).glob("train.csv*")):  # IDX files, or Fashion's CSVs?
        from file_io import read_folder  # read next door

        data, pixels, labels = read_folder(data_dir, normalize, read_digits_csv)
    else:
        source = find_data_file("train", data_dir)
        pixels, labels = read_digits_csv(source)
        with open(source, "rb") as f:
            data = {"source": source, "sha256": hashlib.file_digest(f, "sha256").hexdigest()}
    data["path"] = display_path(data["source"])
    data["rows"], pixels, labels = len(labels), pixels[: config.limit], labels[: config.limit]
    if len(np.unique(labels)) < 2:
        raise InputError(f"{data['path']}: every row has the same label; nothing to tell apart")
    if pixels.max() <= 1:
        raise InputError(f"{data['path']}: every pixel is 0 or 1 (binarised?); expected 0-255")
    if config.train_on_all:
        return data | dict(X_train=normalize(pixels), y_train=labels, X_val=None, y_val=None)
    options = dict(test_size=config.val_fraction, stratify=labels, random_state=config.seed)
    try:  # split row numbers, then normalise each part: no full-size float copy in memory
        train_rows, val_rows = train_test_split(np.arange(len(labels)), **options)
    except ValueError as error:  # e.g. --limit too small for a stratified split
        raise InputError(
            f"cannot split {len(labels)} rows into training and validation ({error}); "
            "use more rows (--limit) or another --val-fraction"
        ) from None
    data["X_train"], data["y_train"] = normalize(pixels[train_rows]), labels[train_rows]
    data["X_val"], data["y_val"] = normalize(pixels[val_rows]), labels[val_rows]
    return data


def atomic_write(path: str | Path):
    """with atomic_write(path) as f: the file at path is replaced only once f is whole."""
    from file_io import atomic_write  # with the checks a careful writer makes; read it there

    return atomic_write(path)


# --- 6. Plots -----------------------------------------------------------------------------------


def save_figure(fig, path: Path) -> None:
    with atomic_write(path) as f:
        fig.savefig(f, format=path.suffix.lstrip("."), dpi=100, bbox_inches="tight")


def plot_digit_grid(images, captions: list[str], colors: list[str], title: str, path: Path):
    """Digits in rows of 8, each with a caption above it, drawn as one mosaic image (fast)."""
    import matplotlib.pyplot as plt

    n, cols = len(images), 8
    rows = max(1, -(-n // cols))  # ceil(n / cols)
    room = 4 + 9 * max([caption.count("\n") + 1 for caption in captions] or [1])  # for captions
    height, width = room + 28, 28 + 6  # one tile: caption room above the digit, a margin around
    tiles = np.zeros((rows * cols, height, width))
    tiles[:n, room:, 3:31] = images.reshape(n, 28, 28)  # (n, 784) -> (n, 28, 28)
    mosaic = tiles.reshape(rows, cols, height, width).transpose(0, 2, 1, 3)  # (rows, H, cols, W)
    fig, ax = plt.subplots(figsize=(cols * 1.25, rows * height / 28 * 1.25 + 0.5))
    ax.imshow(mosaic.reshape(rows * height, cols * width), cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    for i, (caption, color) in enumerate(zip(captions, colors)):
        x, y = (i % cols + 0.5) * width, (i // cols) * height + room / 2
        ax.text(x, y, caption, ha="center", va="center", color=color, fontsize=8)
    ax.set_title(title)
    save_figure(fig, path)
    return fig


def plot_predictions(images, labels, predicted, path: Path, what="validation", names=None):
    """The first len(predicted) images and the class predicted; mistakes in red with the truth."""
    n, names = len(predicted), names or DIGIT_NAMES
    wrong = predicted != labels[:n]
    true = [f"\n(true {names[t]})" if w else "" for t, w in zip(labels, wrong)]
    captions = [names[p] + t for p, t in zip(predicted, true)]
    colors = ["red" if w else "black" for w in wrong]
    title = f"Predictions on {what} images ({int(wrong.sum())} of {n} wrong, in red)"
    return plot_digit_grid(images[:n], captions, colors, title, path)


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
    save_figure(fig, path)
    return fig


def show_figures_if_possible() -> None:
    """Open the figures in a window when matplotlib has an interactive backend (a display)."""
    import matplotlib.pyplot as plt
    from matplotlib.backends import BackendFilter, backend_registry

    if plt.get_backend().lower() in backend_registry.list_builtin(BackendFilter.INTERACTIVE):
        plt.show()
    plt.close("all")


# --- 7. Main: python src/NN_Numpy.py [options] --------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command line: one option per TrainConfig field, then where to read and write."""
    parser = argparse.ArgumentParser(
        prog="NN_Numpy.py",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Train a fully connected network, written in NumPy, on Kaggle's Digit "
        "Recognizer (MNIST) data; evaluate it, save it and plot sample predictions. "
        "To use the trained model: python src/use_network.py --help",
    )
    for setting in fields(TrainConfig):
        names = ["--" + setting.name.replace("_", "-"), *setting.metadata.get("aliases", [])]
        extra = {k: v for k, v in setting.metadata.items() if k not in ("help", "aliases")}
        if setting.default is False:
            extra["action"] = "store_true"
        else:
            extra.setdefault("type", type(setting.default))
        help = setting.metadata["help"]
        parser.add_argument(*names, dest=setting.name, default=setting.default, help=help, **extra)
    add = parser.add_argument
    add("--data-dir", type=Path, help="Kaggle CSVs or IDX; None: data/raw/ or the bundled copy")
    add("--classes", help="class names: digits, fashion or a file of 10; None: from the data")
    add("--model", type=Path, default=MODEL_PATH, help="where to save the model and its record")
    add("--figures-dir", type=Path, default=FIGURES_DIR, help="where to save the figures")
    add("--no-plots", action="store_true", help="skip the figures")
    return parser


def not_sure_threshold(probs: np.ndarray, labels: np.ndarray, target=0.995) -> float:
    """The lowest top probability t such that, of the answers given with probability >= t, a
    share `target` is right; use_network answers "not sure" below it (inf: never sure)."""
    top = probs.max(axis=1)  # (N, 10) -> (N,)
    order = np.argsort(-top, kind="stable")  # (N,): most confident first
    # (N,): of the k + 1 surest answers, the share that is right
    right = np.cumsum(probs.argmax(axis=1)[order] == labels[order]) / np.arange(1, len(top) + 1)
    last_of_tie = np.append(top[order][:-1] > top[order][1:], True)  # ">= t" takes all ties
    good = np.flatnonzero(last_of_tie & (right >= target))
    return float(top[order][good[-1]]) if len(good) else float("inf")


def run_training(config: TrainConfig, args: argparse.Namespace, argv: list[str]) -> int:
    """Load and split the data, train, evaluate, save the model with its record, plot."""
    from importlib.metadata import version

    from file_io import check_outputs, data_files  # the one place that says where a run writes

    folders = [args.data_dir] if args.data_dir else [KAGGLE_DATA_DIR, BUNDLED_DATA_DIR]
    figures = [] if args.no_plots else [args.figures_dir / "predictions.png"]
    outputs = [args.model, *figures, *(f.with_name("training_curves.png") for f in figures)]
    check_outputs(outputs, data_files(folders))
    data = load_split(args.data_dir, config)
    X_train, y_train, X_val, y_val = (data[k] for k in ("X_train", "y_train", "X_val", "y_val"))
    origin = "bundled MNIST copy" if data["source"].parent == BUNDLED_DATA_DIR else "your file"
    shown = f"{data['path']} ({origin}), {data['rows']:,} rows"
    print(f"Data: {data.get('shown', shown)}")  # IDX or Fashion-MNIST files say more
    names = data.get("classes", DIGIT_NAMES)
    if args.classes:  # --classes digits | fashion | a file of 10 names, read next door
        from file_io import class_names

        names = class_names(args.classes)
    print("Classes: " + ", ".join(names))
    if X_val is None:
        print(f"Training on all {len(y_train):,} rows (--train-on-all: no validation split)")
    else:
        print(f"Split: {len(y_train):,} training, {len(y_val):,} validation rows (stratified)")
    sizes = [N_PIXELS, *config.hidden, N_CLASSES]
    network = NeuralNetwork(sizes, seed=config.seed)
    n_parameters = sum(p.size for p in network.parameters())
    print(f"Network: {'-'.join(map(str, sizes))}, {n_parameters:,} parameters")
    print("Training: " + ", ".join(f"{k}={v}" for k, v in asdict(config).items()))
    start = time.perf_counter()
    try:
        history = train(network, X_train, y_train, X_val, y_val, config)
    except TrainingDiverged as error:
        print(f"error: {error}. No model was saved.", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start

    # Evaluate the last epoch's weights, on validation rows they never trained on nor were
    # chosen by; with --train-on-all there are none, and the training rows stand in.
    if X_val is None:
        X_eval, y_eval, eval_set, note = X_train, y_train, "training", " (no validation split)"
    else:
        X_eval, y_eval, eval_set, note = X_val, y_val, "validation", ""
    loss, accuracy = network.evaluate(X_eval, y_eval)
    print(f"{eval_set.capitalize()} Accuracy: {100 * accuracy:.2f}%{note}")
    metrics = {"evaluated_on": eval_set, "accuracy": accuracy, "loss": loss, "seconds": seconds}
    metrics["not_sure_threshold"] = not_sure_threshold(network.predict_proba(X_eval), y_eval)
    if "y_test" in data:  # the official test set: never trained on, nor chosen by
        metrics["test_accuracy"] = acc = network.accuracy(data["X_test"], data["y_test"])
        print(f"Test Accuracy: {100 * acc:.2f}% ({len(data['y_test']):,} labelled test rows)")

    packages = ["numpy", "pandas", "scikit-learn", "matplotlib", "pillow"]
    network.record = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "src/NN_Numpy.py", *argv],
        "settings": asdict(config),
        "data": {key: data[key] for key in ("path", "sha256", "rows")} | {"classes": names},
        "versions": {"python": sys.version.split()[0]} | {name: version(name) for name in packages},
        "history": history,
        "metrics": metrics,
    }
    network.save(args.model)
    print(f"Model and run record saved to {display_path(args.model)}")
    if not args.no_plots:
        predicted, folder = network.predict(X_eval[:32]), args.figures_dir
        plot_predictions(X_eval, y_eval, predicted, folder / "predictions.png", eval_set, names)
        plot_training_curves(history, folder / "training_curves.png")
        more = "more: python src/use_network.py report"
        print(f"Figures saved to {display_path(args.figures_dir)}/ ({more})")
        show_figures_if_possible()
    return 0


def report_errors(command: Callable[[], int]) -> int:
    """Run a command: an error a user can cause is one line on stderr and exit status 1; Ctrl-C
    or SIGTERM exit 130. Files are only replaced whole (atomic_write): a failed run damages none."""

    with contextlib.suppress(ValueError):  # signals can only be set in the main thread
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # raises KeyboardInterrupt
    try:
        return command()
    except InputError as error:  # one line, whatever a file name holds
        print(f"error: {error}".replace("\n", "\\n"), file=sys.stderr)
    except OSError as error:  # e.g. a disk that fills up; nothing half-written is left behind
        print(f"error: {error.strerror or error} ({error.filename})", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved from the unfinished step", file=sys.stderr)
        return 130
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    except ValueError as error:
        parser.error(str(error))  # exits with status 2, after the usage line
    return report_errors(lambda: run_training(config, args, argv))


if __name__ == "__main__":
    sys.exit(main())
