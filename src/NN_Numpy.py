"""A neural network from scratch in NumPy, trained on handwritten digits.

    python src/NN_Numpy.py            # train 784-128-64-10 on MNIST, evaluate, plot
    python src/NN_Numpy.py --help     # every option, with its default

The file reads top to bottom in the order you would learn it:
  1. activations and loss   the math, with array shapes in the comments
  2. FCLayer                one fully connected layer: forward and backward
  3. NeuralNetwork          layers stacked and trained with mini-batch SGD
  4. data                   Kaggle's Digit Recognizer CSVs -> checked arrays
  5. plots                  sample predictions and training curves
  6. command line           main()

Shapes: B = batch size, N = number of images, 784 = 28 * 28 pixels, 10 digits.
Importing this file runs nothing; only `python src/NN_Numpy.py` trains.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

# pandas (CSV parsing), scikit-learn (splitting, metrics) and matplotlib (plots) are
# imported inside the functions that use them: together they take ~3 s to import,
# which --help, a cached data load or a prediction should not have to wait for.

DTYPE = np.float32  # single precision: twice the matrix-multiply speed of float64, plenty for SGD
N_PIXELS = 28 * 28
N_CLASSES = 10


class InputError(ValueError):
    """A problem with something the user gave us (a file, an array, an option).

    The message says what is wrong, where, and how to fix it; the command line
    prints it without a traceback and exits with status 1.
    """


# ---------------------------------------------------------------------------
# 1. Activations and loss
# ---------------------------------------------------------------------------
# Each activation comes as a pair: forward(z) -> a, and backward(grad_a, a) -> grad_z,
# the chain rule through the activation: dL/dz = dL/da * da/dz, written with the
# output a because that is what the layer keeps.


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)  # max(0, z), elementwise


def relu_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    return grad_output * (output > 0)  # da/dz = 1 where z > 0 (same as a > 0), else 0


def sigmoid(z: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-z) overflows e^-z for z << 0; e^-|z| is always <= 1.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    return grad_output * output * (1 - output)  # da/dz = a (1 - a)


def identity(z: np.ndarray) -> np.ndarray:
    return z


def identity_backward(grad_output: np.ndarray, output: np.ndarray) -> np.ndarray:
    return grad_output


def log_softmax(logits: np.ndarray) -> np.ndarray:
    # softmax(z) = softmax(z - c) for any c; subtracting the row max keeps exp() <= 1,
    # so it never overflows, and log(sum(exp(.))) is the stable log-sum-exp.
    shifted = logits - logits.max(axis=1, keepdims=True)  # (B, 10)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(logits))  # (B, 10), each row sums to 1


def one_hot(labels: np.ndarray, n_classes: int = N_CLASSES, dtype=DTYPE) -> np.ndarray:
    targets = np.zeros((len(labels), n_classes), dtype=dtype)
    targets[np.arange(len(labels)), labels] = 1  # (B, 10)
    return targets


def softmax_cross_entropy(
    logits: np.ndarray, labels: np.ndarray, label_smoothing: float = 0.0
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer labels, and dLoss/dlogits.

    loss = -1/B sum_i sum_k t_ik log softmax(z_i)_k, with targets t = onehot(y), or with
    label smoothing t = (1 - eps) onehot(y) + eps / 10, which stops the network from
    pushing its logits ever further apart to become 100% sure.
    Computed from the logits with log-sum-exp rather than from probabilities, so a
    probability that rounds to 0 gives a large finite loss instead of log(0) = -inf.
    """
    batch_size, n_classes = logits.shape
    log_probs = log_softmax(logits)  # (B, 10)
    targets = one_hot(labels, n_classes, logits.dtype)  # (B, 10)
    if label_smoothing:
        targets = (1 - label_smoothing) * targets + label_smoothing / n_classes
    loss = -(targets * log_probs).sum() / batch_size
    # d/dz of -sum_k t_k log softmax(z)_k is softmax(z) - t (the targets sum to 1): softmax's
    # Jacobian cancels the 1/p from the log. Dividing by B: the gradient of the *mean* loss.
    grad_logits = (np.exp(log_probs) - targets) / batch_size  # (B, 10)
    return float(loss), grad_logits


# name -> (forward, backward). The output layer's softmax is fused into the loss
# (softmax_cross_entropy), so that layer passes its logits z straight through and
# receives dL/dz = (probs - onehot) / B from the loss.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (relu, relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "softmax": (identity, identity_backward),
}


# ---------------------------------------------------------------------------
# 2. One fully connected layer
# ---------------------------------------------------------------------------


class FCLayer:
    """output = activation(input @ weights + bias), for a batch of inputs at once."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str = "relu",
        rng: np.random.Generator | None = None,
        dtype=DTYPE,
    ) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
        rng = np.random.default_rng() if rng is None else rng
        self.activation = activation
        self.activate, self.activate_backward = ACTIVATIONS[activation]
        # Initial weights keep the signal's variance about the same from layer to layer:
        # He (std sqrt(2 / n_in)) for ReLU, which zeroes half its inputs;
        # Glorot (std sqrt(2 / (n_in + n_out))) for sigmoid and softmax.
        std = np.sqrt(2 / n_in) if activation == "relu" else np.sqrt(2 / (n_in + n_out))
        self.weights = (rng.standard_normal((n_in, n_out)) * std).astype(dtype)  # (n_in, n_out)
        self.bias = np.zeros(n_out, dtype=dtype)  # (n_out,)
        self.grad_weights = np.zeros_like(self.weights)
        self.grad_bias = np.zeros_like(self.bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input = x  # (B, n_in), kept for grad_weights
        z = x @ self.weights + self.bias  # (B, n_in) @ (n_in, n_out) + (n_out,) -> (B, n_out)
        self.output = self.activate(z)  # (B, n_out), kept for the activation's derivative
        return self.output

    def backward(self, grad_output: np.ndarray, need_grad_input: bool = True) -> np.ndarray | None:
        """Store grad_weights, grad_bias; return dL/dinput for the layer below.

        grad_output is dL/doutput, shape (B, n_out). The first layer has nothing
        below it, so it skips the largest matrix multiply (need_grad_input=False).
        """
        grad_z = self.activate_backward(grad_output, self.output)  # (B, n_out)
        # out=: written into the arrays made in __init__, not into new ones every batch
        np.matmul(self.input.T, grad_z, out=self.grad_weights)  # (n_in, B) @ (B, n_out) -> (n_in, n_out)
        np.sum(grad_z, axis=0, out=self.grad_bias)  # (B, n_out) -> (n_out,)
        if not need_grad_input:
            return None
        return grad_z @ self.weights.T  # (B, n_out) @ (n_out, n_in) -> (B, n_in)


# ---------------------------------------------------------------------------
# 3. The network: layers stacked, trained with mini-batch SGD
# ---------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """How to train. The defaults are the command line's defaults."""

    epochs: int = 100
    batch_size: int = 128
    optimizer: str = "sgd"  # "sgd" or "adam"
    learning_rate: float = 0.1  # the peak rate; the schedule scales it each epoch
    momentum: float = 0.9
    nesterov: bool = False
    schedule: str = "cosine"  # "cosine" or "constant"
    warmup_epochs: int = 0
    weight_decay: float = 5e-4
    shift: int = 2  # augmentation: move each training image by up to this many pixels
    label_smoothing: float = 0.0
    early_stopping: int | None = None  # stop after this many epochs without a better validation accuracy
    restore_best: bool = True  # end with the weights of the epoch with the best validation accuracy
    seed: int = 0

    def __post_init__(self) -> None:
        """Refuse settings that cannot train, naming the command-line option."""
        rules = [
            ("epochs", self.epochs >= 1, "must be >= 1"),
            ("batch_size", self.batch_size >= 1, "must be >= 1"),
            ("optimizer", self.optimizer in ("sgd", "adam"), "must be 'sgd' or 'adam'"),
            ("learning_rate", self.learning_rate > 0 and np.isfinite(self.learning_rate), "must be > 0"),
            ("momentum", 0 <= self.momentum < 1, "must be in [0, 1)"),
            ("schedule", self.schedule in ("cosine", "constant"), "must be 'cosine' or 'constant'"),
            ("warmup_epochs", 0 <= self.warmup_epochs < self.epochs, "must be >= 0 and less than --epochs"),
            ("weight_decay", self.weight_decay >= 0 and np.isfinite(self.weight_decay), "must be >= 0"),
            ("shift", 0 <= self.shift < 28, "must be 0-27 pixels (the image is 28 pixels wide)"),
            ("label_smoothing", 0 <= self.label_smoothing < 1, "must be in [0, 1)"),
            ("early_stopping", self.early_stopping is None or self.early_stopping >= 1, "(the patience) must be >= 1 epoch"),
        ]
        for name, ok, rule in rules:
            if not ok:
                option = "--lr" if name == "learning_rate" else "--" + name.replace("_", "-")
                raise ValueError(f"{option} {rule}, got {getattr(self, name)}")


class Optimizer:
    """Turns gradients into parameter updates.

    It works on the network's two flat arrays, `parameters` and `gradients` (every
    layer's weights and bias are views into them, see NeuralNetwork), so one update
    is a few whole-array operations, whatever the number of layers.
    """

    def __init__(self, weight_decay: float = 0.0) -> None:
        self.weight_decay = weight_decay
        self.scratch: np.ndarray | None = None  # one work array, reused by every step

    def step(self, parameters: np.ndarray, gradients: np.ndarray, learning_rate: float) -> None:
        if self.scratch is None:
            self.scratch = np.empty_like(parameters)
        if self.weight_decay:
            # L2 penalty (wd / 2) * sum(p^2) adds wd * p to the gradient: it pulls the weights
            # towards 0, so no single pixel gets a huge say. (Biases too, as PyTorch's SGD does.)
            gradients += np.multiply(parameters, self.weight_decay, out=self.scratch)
        self.update(parameters, gradients, learning_rate)

    def update(self, parameters: np.ndarray, gradients: np.ndarray, learning_rate: float) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """param -= lr * grad; with momentum, a running sum of gradients replaces grad.

    velocity <- momentum * velocity + grad;  param -= lr * velocity
    Momentum keeps moving along directions that gradients agree on and averages out
    the zig-zag of noisy mini-batch gradients. Nesterov looks one step ahead:
    param -= lr * (grad + momentum * velocity).
    """

    def __init__(self, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(weight_decay)
        self.momentum, self.nesterov = momentum, nesterov
        self.velocity: np.ndarray | None = None

    def update(self, parameters: np.ndarray, gradients: np.ndarray, learning_rate: float) -> None:
        step = gradients
        if self.momentum:
            if self.velocity is None:
                self.velocity = np.zeros_like(parameters)
            self.velocity *= self.momentum  # in place: no new 109,386-number arrays per step
            self.velocity += gradients
            step = gradients + self.momentum * self.velocity if self.nesterov else self.velocity
        parameters -= np.multiply(step, learning_rate, out=self.scratch)


class Adam(Optimizer):
    """Adam: each parameter's step is scaled by a running estimate of its gradient's size.

    m <- b1 m + (1 - b1) grad;  v <- b2 v + (1 - b2) grad^2   (running mean and mean square)
    param -= lr * m_hat / (sqrt(v_hat) + eps), where m_hat, v_hat undo the bias of starting at 0.
    """

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(weight_decay)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = self.v = None
        self.t = 0

    def update(self, parameters: np.ndarray, gradients: np.ndarray, learning_rate: float) -> None:
        if self.m is None:
            self.m, self.v = np.zeros_like(parameters), np.zeros_like(parameters)
        self.t += 1
        self.m *= self.beta1
        self.m += (1 - self.beta1) * gradients
        self.v *= self.beta2
        self.v += (1 - self.beta2) * gradients * gradients
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        parameters -= learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


def make_optimizer(config: TrainConfig) -> Optimizer:
    if config.optimizer == "adam":
        return Adam(weight_decay=config.weight_decay)
    return SGD(config.momentum, config.nesterov, config.weight_decay)


def learning_rate_at(epoch: int, config: TrainConfig) -> float:
    """The learning rate for `epoch` (0-based): linear warm-up, then cosine decay or constant.

    Large steps early cover ground; small steps late settle into a minimum instead of
    bouncing around it. Cosine: lr * (1 + cos(pi * progress)) / 2, from lr down towards 0.
    """
    if epoch < config.warmup_epochs:
        return config.learning_rate * (epoch + 1) / config.warmup_epochs
    if config.schedule == "constant":
        return config.learning_rate
    progress = (epoch - config.warmup_epochs) / max(1, config.epochs - config.warmup_epochs)
    return config.learning_rate * 0.5 * (1 + np.cos(np.pi * progress))


def shift_windows(images: np.ndarray, max_shift: int) -> np.ndarray:
    """Every 28x28 window of the images framed by max_shift zero pixels: (N, 2s + 1, 2s + 1, 28, 28).

    A view into one padded copy (N, 28 + 2s, 28 + 2s), made once per training run:
    window [s + a, s + b] is the image moved by (-a, -b), with zeros filling in.
    """
    n, s = len(images), max_shift
    padded = np.zeros((n, 28 + 2 * s, 28 + 2 * s), images.dtype)
    padded[:, s : s + 28, s : s + 28] = images.reshape(n, 28, 28)
    return np.lib.stride_tricks.sliding_window_view(padded, (28, 28), axis=(1, 2))


def random_shift(windows: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Images `rows`, each moved by its own random (dy, dx) in [-s, s]: (B, 784).

    `windows` comes from shift_windows(). A digit moved by a pixel or two is still the
    same digit, so the network sees a slightly different training set every epoch and
    overfits less. One gather does the shuffling and the shifting together.
    """
    s = windows.shape[1] // 2
    dy, dx = rng.integers(-s, s + 1, size=(2, len(rows)))
    # Moving the digit down by dy means reading the window that starts dy rows higher.
    return windows[rows, s - dy, s - dx].reshape(len(rows), N_PIXELS)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class NeuralNetwork:
    """A stack of FCLayers ending in softmax, trained on cross-entropy."""

    def __init__(
        self,
        layer_sizes: tuple[int, ...] | list[int] = (N_PIXELS, 128, 64, N_CLASSES),
        activations: tuple[str, ...] | list[str] = ("relu", "relu", "softmax"),
        seed: int = 0,
        dtype=DTYPE,
    ) -> None:
        layer_sizes, activations = list(layer_sizes), list(activations)
        if len(activations) != len(layer_sizes) - 1:
            raise ValueError(
                f"{len(layer_sizes)} layer sizes need {len(layer_sizes) - 1} activations, got {len(activations)}"
            )
        if activations[-1] != "softmax" or "softmax" in activations[:-1]:
            raise ValueError("the last activation must be 'softmax' (and only the last)")
        rng = np.random.default_rng(seed)
        self.layers = [
            FCLayer(n_in, n_out, act, rng, dtype)
            for n_in, n_out, act in zip(layer_sizes[:-1], layer_sizes[1:], activations)
        ]
        self.layer_sizes, self.activations, self.dtype = layer_sizes, activations, np.dtype(dtype)
        # Every parameter in one flat array, every gradient in another; each layer's weights,
        # bias, grad_weights and grad_bias become views into them (no copies). The optimizer
        # then updates all 109,386 numbers with a few NumPy calls instead of a few per array.
        arrays = [a for layer in self.layers for a in (layer.weights, layer.bias)]
        self.parameters = np.concatenate([a.ravel() for a in arrays])
        self.gradients = np.zeros_like(self.parameters)
        offset = 0
        for layer in self.layers:
            for name in ("weights", "bias"):
                shape = getattr(layer, name).shape
                size = int(np.prod(shape))
                setattr(layer, name, self.parameters[offset : offset + size].reshape(shape))
                setattr(layer, "grad_" + name, self.gradients[offset : offset + size].reshape(shape))
                offset += size

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(B, 784) -> (B, 10) logits; softmax(logits) are the class probabilities."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_logits: np.ndarray) -> None:
        """Backpropagate dL/dlogits (B, 10), filling every layer's grad_weights and grad_bias."""
        grad = grad_logits
        for i in reversed(range(len(self.layers))):
            grad = self.layers[i].backward(grad, need_grad_input=i > 0)

    def train_batch(
        self, x: np.ndarray, labels: np.ndarray, optimizer: Optimizer, learning_rate: float, label_smoothing: float = 0.0
    ) -> float:
        """Forward, loss, backward and one update on a mini-batch; returns the batch's loss."""
        loss, grad_logits = softmax_cross_entropy(self.forward(x), labels, label_smoothing)
        self.backward(grad_logits)
        optimizer.step(self.parameters, self.gradients, learning_rate)
        return loss

    def fit(
        self,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        config: TrainConfig | None = None,
        log: Callable[[str], None] = print,
    ) -> list[dict]:
        """Mini-batch training over `config.epochs` epochs, reshuffled each epoch.

        Returns the history: one dict per epoch with loss, learning_rate, seconds and,
        given validation data, val_loss and val_accuracy. With validation data the
        network ends with its best epoch's weights (config.restore_best) and may stop
        early (config.early_stopping). Raises TrainingDiverged if the loss stops being finite.
        """
        config = config or TrainConfig()
        rng = np.random.default_rng(config.seed)  # shuffling and augmentation, reproducible
        optimizer = make_optimizer(config)
        n_samples, batch_size = len(X_train), config.batch_size
        windows = shift_windows(X_train, config.shift) if config.shift else None
        history: list[dict] = []
        best = {"accuracy": -1.0, "epoch": 0, "weights": None}
        for epoch in range(1, config.epochs + 1):
            start = time.perf_counter()
            learning_rate = learning_rate_at(epoch - 1, config)
            order = rng.permutation(n_samples)
            batch_losses = []
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is caught just below
                for first in range(0, n_samples, batch_size):
                    batch = order[first : first + batch_size]
                    # (B, 784): a gather of shuffled rows, so shuffling costs no extra pass over the data
                    x = X_train[batch] if windows is None else random_shift(windows, batch, rng)
                    loss = self.train_batch(x, y_train[batch], optimizer, learning_rate, config.label_smoothing)
                    batch_losses.append(loss)
            train_loss = float(np.mean(batch_losses))
            if not np.isfinite(train_loss):
                raise TrainingDiverged(
                    f"the training loss became {train_loss} in epoch {epoch}; "
                    f"try a smaller learning rate (--lr {config.learning_rate / 10:g})"
                )
            record = {"epoch": epoch, "loss": train_loss, "learning_rate": learning_rate}
            line = f"Epoch {epoch}/{config.epochs}, Loss: {train_loss:.4f}"
            if X_val is not None:
                record["val_loss"], record["val_accuracy"] = self.evaluate(X_val, y_val)
                line += f", Val Loss: {record['val_loss']:.4f}, Val Accuracy: {100 * record['val_accuracy']:.2f}%"
                if record["val_accuracy"] > best["accuracy"]:
                    best = {"accuracy": record["val_accuracy"], "epoch": epoch, "weights": self.parameters.copy() if config.restore_best else None}
            record["seconds"] = time.perf_counter() - start
            log(f"{line}, LR: {learning_rate:.4g}, Time: {record['seconds']:.2f}s")
            history.append(record)
            if config.early_stopping and X_val is not None and epoch - best["epoch"] >= config.early_stopping:
                log(f"Early stopping: no better validation accuracy in the last {config.early_stopping} epochs")
                break
        if best["weights"] is not None and best["epoch"] != history[-1]["epoch"]:
            self.parameters[...] = best["weights"]  # in place: the layers' views see it
            log(f"Restored the weights of epoch {best['epoch']} (best validation accuracy, {100 * best['accuracy']:.2f}%)")
        return history

    # -- using the trained network -------------------------------------------------

    def _check_input(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        n_in = self.layer_sizes[0]
        if X.ndim != 2 or X.shape[1] != n_in:
            raise InputError(f"expected an array of shape (N, {n_in}) with pixels scaled to [0, 1], got shape {X.shape}")
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise InputError(f"expected real numbers, got dtype {X.dtype}")
        if not np.isfinite(X).all():
            raise InputError("input contains NaN or infinite values")
        return X.astype(self.dtype, copy=False)

    def predict_proba(self, X: np.ndarray, chunk_size: int = 4096) -> np.ndarray:
        """(N, 784) pixels in [0, 1] -> (N, 10) class probabilities."""
        X = self._check_input(X)
        # In chunks: bounded memory for any N, and large enough for fast matrix multiplies.
        return np.concatenate(
            [softmax(self.forward(X[i : i + chunk_size])) for i in range(0, len(X), chunk_size)]
            or [np.empty((0, self.layer_sizes[-1]), self.dtype)]
        )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(N, 784) -> (N,) predicted digit labels."""
        return self.predict_proba(X).argmax(axis=1)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(X) == np.asarray(y)).mean())

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Mean cross-entropy loss and accuracy on (X, y)."""
        probs = self.predict_proba(X)
        loss = -np.log(np.maximum(probs[np.arange(len(y)), y], np.finfo(probs.dtype).tiny)).mean()
        return float(loss), float((probs.argmax(axis=1) == y).mean())

    # -- saving and loading ----------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write weights, biases, layer sizes and activations to one .npz, atomically."""
        arrays = {"layer_sizes": np.array(self.layer_sizes), "activations": np.array(self.activations)}
        for i, layer in enumerate(self.layers):
            arrays[f"weights_{i}"], arrays[f"bias_{i}"] = layer.weights, layer.bias
        with atomic_write(path) as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> NeuralNetwork:
        """Read a model written by save(). Never unpickles: allow_pickle=False."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"no model file at {path}; train one first: python src/NN_Numpy.py")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except Exception as error:  # zipfile, pickle-refusal, truncation: all mean "not our file"
            raise InputError(f"{path} is not a readable model file ({error}); retrain or pick another --model") from None
        try:
            sizes = [int(s) for s in arrays["layer_sizes"]]
            activations = [str(a) for a in arrays["activations"]]
            network = cls(sizes, activations)
            for i, layer in enumerate(network.layers):
                weights, bias = arrays[f"weights_{i}"], arrays[f"bias_{i}"]
                if weights.shape != layer.weights.shape or bias.shape != layer.bias.shape:
                    raise ValueError(
                        f"layer {i} has weights {weights.shape} and bias {bias.shape}, "
                        f"expected {layer.weights.shape} and {layer.bias.shape}"
                    )
                if not (np.isfinite(weights).all() and np.isfinite(bias).all()):
                    raise ValueError(f"layer {i} holds NaN or infinite values")
                layer.weights[...], layer.bias[...] = weights, bias  # into the network's flat parameters
        except (KeyError, ValueError, TypeError) as error:
            raise InputError(f"{path} is not a valid model file: {error}") from None
        return network


# ---------------------------------------------------------------------------
# 4. Data: Kaggle's Digit Recognizer CSVs
# ---------------------------------------------------------------------------
# train.csv: label,pixel0,...,pixel783 (label 0-9, pixels 0-255); test.csv: no label.
# pixelK is row K // 28, column K % 28 of the 28 x 28 image.

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DATA_DIR = PROJECT_ROOT / "data" / "external" / "mnist"
KAGGLE_DATA_DIR = PROJECT_ROOT / "data" / "raw"
CACHE_DIR = PROJECT_ROOT / "data" / "processed"
MODEL_PATH = PROJECT_ROOT / "models" / "mnist_mlp.npz"
FIGURES_DIR = PROJECT_ROOT / "reports" / "figures"
PIXEL_COLUMNS = [f"pixel{k}" for k in range(N_PIXELS)]


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator:
    """Open a temporary file next to `path`; rename it over `path` only if writing succeeded.

    A crash mid-write leaves the old file untouched, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes files private (0600); a model or figure is meant to be shared
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def find_data_file(name: str, data_dir: str | Path | None = None) -> Path:
    """`name`.csv (or .csv.gz) from data_dir; by default Kaggle's file in data/raw/, else the bundled copy."""
    folders = [Path(data_dir)] if data_dir is not None else [KAGGLE_DATA_DIR, BUNDLED_DATA_DIR]
    for folder in folders:
        for candidate in (folder / f"{name}.csv", folder / f"{name}.csv.gz"):
            if candidate.is_file():
                return candidate
    looked = ", ".join(str(f / f"{name}.csv[.gz]") for f in folders)
    raise InputError(
        f"no {name} data found (looked for {looked}); put Kaggle's {name}.csv in {KAGGLE_DATA_DIR} "
        f"or pass --data-dir with the folder that holds it"
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_digits_csv(path: str | Path, labelled: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Parse and check a Digit Recognizer CSV.

    Returns pixels (N, 784) uint8 and labels (N,) int64 (None when not labelled).
    Any problem raises InputError naming the file, the line and the column.
    """
    import pandas as pd

    path = Path(path)
    columns = (["label"] if labelled else []) + PIXEL_COLUMNS
    try:
        with warnings.catch_warnings():
            # pandas only *warns* when the first data row has more fields than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, dtype=np.float32, index_col=False)
    except pd.errors.ParserWarning:
        raise InputError(f"{path}, line 2: more fields than the header's columns") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} is empty; expected a header line {','.join(columns[:2])},...") from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        detail = f"line {found[2]}: expected {found[1]} fields, found {found[3]}" if found else str(error)
        raise InputError(f"{path}, {detail}") from None
    except ValueError:  # a value that is not a number: find it and say where
        _raise_first_non_number(path)
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise InputError(f"{path} could not be read as CSV: {error}") from None

    _check_header(path, list(frame.columns), columns)
    if len(frame) == 0:
        raise InputError(f"{path} has a header but no data rows")
    values = frame.to_numpy()  # (N, 785) or (N, 784), float32
    _check_values(path, values, columns, labelled)
    pixels = values[:, 1:] if labelled else values
    labels = values[:, 0].astype(np.int64) if labelled else None
    # pandas hands over columns (Fortran order); rows must be contiguous for fast batch gathers
    return np.ascontiguousarray(pixels, dtype=np.uint8), labels


def _check_header(path: Path, found: list[str], expected: list[str]) -> None:
    if found == expected:
        return
    what = "a training file (label,pixel0,...,pixel783)" if expected[0] == "label" else "a test file (pixel0,...,pixel783)"
    if found[:1] == ["label"] and expected[0] != "label" or found[:1] == ["pixel0"] and expected[0] == "label":
        hint = " (is the label column missing, or extra? train.csv has it, test.csv does not)"
    elif len(found) != len(expected):
        hint = ""
    else:
        column = next(i for i, (f, e) in enumerate(zip(found, expected)) if f != e)
        hint = f": column {column + 1} is {found[column]!r}, expected {expected[column]!r}"
    raise InputError(
        f"{path}, line 1: wrong header for {what}: found {len(found)} columns starting "
        f"{','.join(map(str, found[:3]))},..., expected {len(expected)}{hint}"
    )


def _check_values(path: Path, values: np.ndarray, columns: list[str], labelled: bool) -> None:
    """Every value an integer in range: labels 0-9, pixels 0-255. Report the first bad one."""
    upper = np.full(values.shape[1], 255.0, dtype=np.float32)
    if labelled:
        upper[0] = N_CLASSES - 1
    with np.errstate(invalid="ignore"):
        bad = np.isnan(values) | (values != np.round(values)) | (values < 0) | (values > upper)
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]  # argwhere walks row by row: the first bad cell in the file
    value = values[row, col]
    if np.isnan(value):
        problem = "missing value (an empty field, or a row with too few fields)"
    elif columns[col] == "label":
        problem = f"label {value:g} is not a digit 0-9"
    else:
        problem = f"pixel value {value:g} is not an integer 0-255"
        if value != np.round(value) and 0 <= value <= 1:
            problem += " (already normalised? the CSV should hold the raw 0-255 values)"
    raise InputError(f"{path}, line {row + 2}, column {columns[col]!r}: {problem}")


def _raise_first_non_number(path: Path) -> None:
    """Slow path, only on error: read everything as text to find the first non-number."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, index_col=False, keep_default_na=False)
    numbers = frame.apply(pd.to_numeric, errors="coerce")
    bad = (numbers.isna() & (frame != "")).to_numpy()
    row, col = np.argwhere(bad)[0]
    raise InputError(
        f"{path}, line {row + 2}, column {frame.columns[col]!r}: {frame.iat[row, col]!r} is not a number"
    )


def load_digits(path: str | Path, labelled: bool = True, cache_dir: Path | None = CACHE_DIR) -> dict:
    """read_digits_csv, cached as .npz in data/processed/ (a second run loads in milliseconds).

    The cache is keyed on the source file's path, size and modification time: a changed
    source rebuilds it, and a cache that fails to load or check is rebuilt, not trusted.
    Returns {"pixels", "labels", "source", "sha256"}.
    """
    path = Path(path).resolve()
    stat = path.stat()
    key = f"v2|{path}|{stat.st_size}|{stat.st_mtime_ns}|labelled={labelled}"
    cache = None
    if cache_dir is not None:
        cache = cache_dir / f"{path.name.split('.')[0]}-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}.npz"
        with contextlib.suppress(Exception):
            with np.load(cache, allow_pickle=False) as data:
                if str(data["key"]) == key and data["pixels"].dtype == np.uint8 and data["pixels"].shape[1:] == (N_PIXELS,):
                    labels = data["labels"] if labelled else None
                    if labels is None or (labels.shape == data["pixels"].shape[:1] and labels.min() >= 0 and labels.max() < N_CLASSES):
                        return {"pixels": data["pixels"], "labels": labels, "source": path, "sha256": str(data["sha256"])}
    pixels, labels = read_digits_csv(path, labelled)
    result = {"pixels": pixels, "labels": labels, "source": path, "sha256": sha256_of(path)}
    if cache is not None:
        try:
            with atomic_write(cache) as f:
                np.savez(f, key=key, sha256=result["sha256"], pixels=pixels, labels=labels if labelled else np.zeros(0))
        except OSError as error:
            print(f"warning: could not write the data cache {cache}: {error}", file=sys.stderr)
    return result


def normalize(pixels: np.ndarray) -> np.ndarray:
    """uint8 0-255 -> float32 0-1: inputs of order 1 suit the initial weights' scale."""
    return np.multiply(pixels, DTYPE(1 / 255), dtype=DTYPE, order="C")  # C order: one image per contiguous row


# ---------------------------------------------------------------------------
# 5. Plots
# ---------------------------------------------------------------------------


def save_figure(fig: "matplotlib.figure.Figure", path: Path) -> None:
    with atomic_write(path) as f:
        fig.savefig(f, format=path.suffix.lstrip("."), dpi=100, bbox_inches="tight")


def plot_predictions(
    images: np.ndarray, labels: np.ndarray, predicted: np.ndarray, path: Path, what: str = "validation digits"
) -> "matplotlib.figure.Figure":
    """A grid of the first len(predicted) digits titled with the prediction; mistakes in red."""
    import matplotlib.pyplot as plt

    n, cols = len(predicted), 8
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i].reshape(28, 28), cmap="gray_r")
            wrong = predicted[i] != labels[i]
            ax.set_title(f"{predicted[i]} (true {labels[i]})" if wrong else f"{predicted[i]}", color="red" if wrong else "black", fontsize=10)
    mistakes = int((predicted != labels[:n]).sum())
    fig.suptitle(f"Predictions on {what} ({mistakes} of {n} wrong, in red)")
    save_figure(fig, path)
    return fig


def plot_training_curves(history: list[dict], path: Path) -> "matplotlib.figure.Figure":
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


# ---------------------------------------------------------------------------
# 6. Command line
# ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="NN_Numpy.py",
        description="Train a fully connected network, written in NumPy, on Kaggle's Digit Recognizer (MNIST) data.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--epochs", type=int, default=defaults.epochs, help="passes over the training set")
    add("--batch-size", type=int, default=defaults.batch_size, help="images per update step")
    add("--optimizer", choices=["sgd", "adam"], default=defaults.optimizer, help="update rule")
    add("--lr", type=float, default=defaults.learning_rate, help="peak learning rate")
    add("--momentum", type=float, default=defaults.momentum, help="SGD momentum in [0, 1); 0 is plain SGD")
    add("--nesterov", action=argparse.BooleanOptionalAction, default=defaults.nesterov, help="Nesterov momentum")
    add("--schedule", choices=["cosine", "constant"], default=defaults.schedule, help="learning rate over the epochs")
    add("--warmup-epochs", type=int, default=defaults.warmup_epochs, help="epochs of linear learning-rate warm-up")
    add("--weight-decay", type=float, default=defaults.weight_decay, help="L2 penalty on the weights")
    add("--shift", type=int, default=defaults.shift, metavar="PIXELS", help="augmentation: random shifts of each training image by up to PIXELS (0: off)")
    add("--label-smoothing", type=float, default=defaults.label_smoothing, help="target weight spread over all classes, in [0, 1)")
    add("--early-stopping", type=int, default=defaults.early_stopping, metavar="PATIENCE", help="stop after PATIENCE epochs without a better validation accuracy")
    add("--restore-best", action=argparse.BooleanOptionalAction, default=defaults.restore_best, help="end with the best epoch's weights (by validation accuracy)")
    add("--hidden", type=int, nargs="+", default=[128, 64], metavar="N", help="hidden layer sizes")
    add("--activation", choices=["relu", "sigmoid"], default="relu", help="hidden layers' activation")
    add("--seed", type=int, default=defaults.seed, help="random seed: weights, split, shuffling, augmentation")
    add("--val-fraction", type=float, default=0.2, help="share of labelled rows held out for validation (stratified), in (0, 1)")
    add("--train-on-all", action="store_true", help="train on every labelled row, with no validation split (for a final model)")
    add("--data-dir", type=Path, default=None, help="folder with train.csv[.gz]; default: data/raw/ if Kaggle's file is there, else the bundled data/external/mnist/")
    add("--limit", type=int, default=None, metavar="N", help="use only the first N labelled rows, for a quick try")
    add("--model", type=Path, default=MODEL_PATH, help="where to save the trained model (.npz)")
    add("--figures-dir", type=Path, default=FIGURES_DIR, help="where to save the figures")
    add("--no-plots", action="store_true", help="skip the figures")
    return parser


def parse_train_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, TrainConfig]:
    """Parse the command line; a value out of range exits with status 2 and says which option."""
    args = parser.parse_args(argv)
    try:
        config = TrainConfig(
            epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, learning_rate=args.lr,
            momentum=args.momentum, nesterov=args.nesterov, schedule=args.schedule, warmup_epochs=args.warmup_epochs,
            weight_decay=args.weight_decay, shift=args.shift, label_smoothing=args.label_smoothing,
            early_stopping=args.early_stopping, restore_best=args.restore_best, seed=args.seed,
        )
        if not 0 < args.val_fraction < 1:
            raise ValueError(f"--val-fraction must be in (0, 1), got {args.val_fraction}")
        if args.early_stopping and args.train_on_all:
            raise ValueError("--early-stopping needs validation data; it cannot go with --train-on-all")
        for option, value in (("--limit", args.limit), *(("--hidden", n) for n in args.hidden)):
            if value is not None and value < 1:
                raise ValueError(f"{option} must be >= 1, got {value}")
    except ValueError as error:
        parser.error(str(error))
    return args, config


def display_path(path: Path) -> str:
    """A path relative to the project when it is inside it, for short messages."""
    with contextlib.suppress(ValueError):
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    return str(path)


def train_command(args: argparse.Namespace, config: TrainConfig) -> int:
    start = time.perf_counter()
    train_file = find_data_file("train", args.data_dir)
    data = load_digits(train_file)
    pixels, labels = data["pixels"], data["labels"]
    origin = "bundled MNIST copy" if train_file.parent == BUNDLED_DATA_DIR else "your file"
    print(f"Data: {display_path(train_file)} ({origin}), {len(labels):,} rows, loaded in {time.perf_counter() - start:.2f}s")
    if args.limit is not None:
        pixels, labels = pixels[: args.limit], labels[: args.limit]

    if args.train_on_all:
        X_train, y_train, X_val, y_val = normalize(pixels), labels, None, None
        print(f"Training on all {len(labels):,} labelled rows (--train-on-all: no validation split)")
    else:
        from sklearn.model_selection import train_test_split

        try:  # split row numbers, then normalise each part: no full-size float copy in memory
            train_rows, val_rows = train_test_split(
                np.arange(len(labels)), test_size=args.val_fraction, stratify=labels, random_state=args.seed
            )
        except ValueError as error:  # e.g. --limit too small for a stratified split
            raise InputError(f"cannot split {len(labels)} rows into training and validation: {error}; use more rows (--limit)") from None
        X_train, y_train = normalize(pixels[train_rows]), labels[train_rows]
        X_val, y_val = normalize(pixels[val_rows]), labels[val_rows]
        print(f"Split: {len(y_train):,} training, {len(y_val):,} validation rows (stratified, seed {args.seed})")

    sizes = [N_PIXELS, *args.hidden, N_CLASSES]
    activations = [args.activation] * len(args.hidden) + ["softmax"]
    network = NeuralNetwork(sizes, activations, seed=args.seed)
    print(f"Network: {'-'.join(map(str, sizes))} ({', '.join(activations)}), {network.parameters.size:,} parameters")
    print("Training: " + ", ".join(f"{k}={v}" for k, v in vars(config).items()))

    try:
        history = network.fit(X_train, y_train, X_val, y_val, config, log=lambda line: print(line, flush=True))
    except TrainingDiverged as error:
        print(f"error: {error}. No model was saved.", file=sys.stderr)
        return 1
    if X_val is None:
        X_shown, y_shown, what = X_train, y_train, "training digits"
        print(f"Training Accuracy: {100 * network.accuracy(X_train, y_train):.2f}% (no validation split)")
    else:
        X_shown, y_shown, what = X_val, y_val, "validation digits"
        print(f"Validation Accuracy: {100 * network.accuracy(X_val, y_val):.2f}%")

    network.save(args.model)
    print(f"Model saved to {display_path(args.model)}")
    if not args.no_plots:
        plot_predictions(X_shown, y_shown, network.predict(X_shown[:32]), args.figures_dir / "predictions.png", what)
        plot_training_curves(history, args.figures_dir / "training_curves.png")
        print(f"Figures saved to {display_path(args.figures_dir)}/: predictions.png, training_curves.png")
        show_figures_if_possible()
    return 0


def main(argv: list[str] | None = None) -> int:
    args, config = parse_train_args(build_parser(), argv)
    try:
        return train_command(args, config)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
