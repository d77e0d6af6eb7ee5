"""A neural network from scratch in NumPy, trained on handwritten digits.

    python src/NN_Numpy.py                  # train 784-128-64-10 on MNIST, evaluate, plot
    python src/NN_Numpy.py predict my.png   # read your own handwritten digit
    python src/NN_Numpy.py --help           # every option and command, with defaults

The file reads top to bottom in the order you would learn it:
  1. activations and loss   the math, with array shapes in the comments
  2. FCLayer                one fully connected layer: forward and backward
  3. NeuralNetwork          layers stacked; optimizers, schedule, augmentation, fit;
                            a gradient check and a step-by-step explanation
  4. data                   Kaggle's Digit Recognizer CSVs -> checked arrays;
                            your own images -> MNIST-like 28x28 digits
  5. plots                  predictions, curves, confusion matrix, mistakes, weights
  6. command line           train, predict, submit, report, gradcheck, explain

Shapes: B = batch size, N = number of images, 784 = 28 * 28 pixels, 10 digits.
Importing this file runs nothing; only `python src/NN_Numpy.py` trains.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

if TYPE_CHECKING:  # for type hints only
    import matplotlib.figure

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
        z = x @ self.weights  # (B, n_in) @ (n_in, n_out) -> (B, n_out)
        z += self.bias  # (n_out,) added to every row; in place: no second (B, n_out) array
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
        grad_z.sum(axis=0, out=self.grad_bias)  # (B, n_out) -> (n_out,)
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
        # A Python float: a NumPy float64 would make `float32 array * rate` compute in
        # float64 (NumPy 2's promotion rules), 4x slower, then cast back.
        learning_rate = float(learning_rate)
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
    return config.learning_rate * 0.5 * (1 + float(np.cos(np.pi * progress)))


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
        X_train, y_train = self._check_input(X_train), self._check_labels(y_train, len(X_train))
        if X_val is not None:
            X_val, y_val = self._check_input(X_val), self._check_labels(y_val, len(X_val))
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

    # -- checking inputs, and using the trained network -----------------------------

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

    def _check_labels(self, y: np.ndarray, n_rows: int) -> np.ndarray:
        y = np.asarray(y)
        n_classes = self.layer_sizes[-1]
        if y.shape != (n_rows,):
            raise InputError(f"expected {n_rows} labels, one per image, got an array of shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer) or (len(y) and (y.min() < 0 or y.max() >= n_classes)):
            raise InputError(f"labels must be whole numbers 0-{n_classes - 1}")
        return y

    def predict_logits(self, X: np.ndarray, chunk_size: int = 4096) -> np.ndarray:
        """(N, 784) pixels in [0, 1] -> (N, 10) logits, checked input, no training state changed."""
        X = self._check_input(X)
        # In chunks: bounded memory for any N, and large enough for fast matrix multiplies.
        chunks = [self.forward(X[i : i + chunk_size]) for i in range(0, len(X), chunk_size)]
        return np.concatenate(chunks) if chunks else np.empty((0, self.layer_sizes[-1]), self.dtype)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(N, 784) pixels in [0, 1] -> (N, 10) class probabilities, each row summing to 1."""
        return softmax(self.predict_logits(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(N, 784) -> (N,) predicted digit labels."""
        return self.predict_logits(X).argmax(axis=1)  # the largest logit is the largest probability

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(X) == np.asarray(y)).mean())

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Mean cross-entropy loss (from the logits, stable) and accuracy on (X, y)."""
        log_probs = log_softmax(self.predict_logits(X))  # (N, 10)
        loss = -log_probs[np.arange(len(y)), y].mean()
        return float(loss), float((log_probs.argmax(axis=1) == y).mean())

    # -- saving and loading ----------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write weights, biases, layer sizes and activations to one .npz, atomically."""
        arrays = {"layer_sizes": np.array(self.layer_sizes), "activations": np.array(self.activations)}
        for i, layer in enumerate(self.layers):
            arrays[f"weights_{i}"], arrays[f"bias_{i}"] = layer.weights, layer.bias
        with atomic_write(path) as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | Path, dtype=DTYPE) -> NeuralNetwork:
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
            network = cls(sizes, activations, dtype=dtype)
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


# -- checking and explaining the math ---------------------------------------------


def gradient_check(
    network: NeuralNetwork, x: np.ndarray, labels: np.ndarray, entries: int = 30, eps: float = 1e-6, seed: int = 0
) -> dict[str, float]:
    """Backpropagation's gradients against central finite differences, per parameter array.

    For `entries` random entries of every weight and bias array, the numerical gradient
    (L(theta + eps) - L(theta - eps)) / 2 eps is compared with the analytic one. Returns
    {"weights_0": relative error, "bias_0": ...}, the error being max |analytic - numeric|
    / max(|analytic|, |numeric|) over the entries checked. Use a float64 network: in
    float32, rounding alone gives errors near 1e-3.
    """
    rng = np.random.default_rng(seed)

    def loss_of() -> float:
        return softmax_cross_entropy(network.forward(x), labels)[0]

    _, grad_logits = softmax_cross_entropy(network.forward(x), labels)
    network.backward(grad_logits)
    errors = {}
    for i, layer in enumerate(network.layers):
        for name, param, grad in (("weights", layer.weights, layer.grad_weights), ("bias", layer.bias, layer.grad_bias)):
            flat_param, analytic = param.reshape(-1), grad.reshape(-1).copy()
            picked = rng.choice(flat_param.size, size=min(entries, flat_param.size), replace=False)
            numeric = np.empty(len(picked))
            for k, j in enumerate(picked):
                saved = flat_param[j]
                flat_param[j] = saved + eps
                plus = loss_of()
                flat_param[j] = saved - eps
                minus = loss_of()
                flat_param[j] = saved
                numeric[k] = (plus - minus) / (2 * eps)
            scale = max(np.abs(analytic[picked]).max(), np.abs(numeric).max(), 1e-12)
            errors[f"{name}_{i}"] = float(np.abs(analytic[picked] - numeric).max() / scale)
    return errors


def explain_step(network: NeuralNetwork, x: np.ndarray, labels: np.ndarray) -> list[str]:
    """Run one forward and backward pass and describe every matrix multiply, with the real shapes."""
    lines = [f"One training step on a batch of B={len(x)} images, network {'-'.join(map(str, network.layer_sizes))}", "forward:"]
    logits = network.forward(x)
    for i, layer in enumerate(network.layers, 1):
        output = "z, the logits (softmax is fused into the loss)" if layer.activation == "softmax" else f"{layer.activation}(z)"
        lines.append(f"  layer {i}: z = input @ weights + bias: {np.shape(layer.input)} @ {np.shape(layer.weights)} + {np.shape(layer.bias)} -> {np.shape(layer.output)}; output = {output}")
    loss, grad_logits = softmax_cross_entropy(logits, labels)
    lines.append(f"loss: mean cross-entropy {loss:.4f}; dL/dlogits = (softmax(logits) - onehot) / {len(x)}: {np.shape(grad_logits)}")
    lines.append("backward:")
    grad = grad_logits
    for i in reversed(range(len(network.layers))):
        layer = network.layers[i]
        grad_in = layer.backward(grad, need_grad_input=i > 0)
        how = "= dL/doutput (softmax fused)" if layer.activation == "softmax" else f"= dL/doutput * {layer.activation}'(z)"
        text = (f"  layer {i + 1}: grad_z {how}: {np.shape(grad)}; grad_weights = input.T @ grad_z: {np.shape(layer.input.T)} @ {np.shape(grad)} -> "
                f"{np.shape(layer.grad_weights)}; grad_bias = sum over the batch: {np.shape(layer.grad_bias)}")
        text += f"; grad_input = grad_z @ weights.T: {np.shape(grad)} @ {np.shape(layer.weights.T)} -> {np.shape(grad_in)}" if grad_in is not None else "; no grad_input (first layer)"
        lines.append(text)
        grad = grad_in
    lines.append(f"update: every one of the {network.parameters.size:,} parameters moves against its gradient (SGD step)")
    return lines


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror} ({error.filename}); choose another place") from None
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
    # utf-8-sig: a spreadsheet's byte-order mark would otherwise stick to the first column name
    with _csv_errors(path, columns):
        header = list(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns)
    _check_header(path, header, columns)  # the header first: a wrong file is refused before parsing it
    with _csv_errors(path, columns):
        frame = pd.read_csv(path, dtype=np.float32, index_col=False, encoding="utf-8-sig")

    if len(frame) == 0:
        raise InputError(f"{path} has a header but no data rows")
    values = frame.to_numpy()  # (N, 785) or (N, 784), float32
    _check_values(path, values, columns, labelled)
    pixels = values[:, 1:] if labelled else values
    labels = values[:, 0].astype(np.int64) if labelled else None
    # pandas hands over columns (Fortran order); rows must be contiguous for fast batch gathers
    return np.ascontiguousarray(pixels, dtype=np.uint8), labels


@contextlib.contextmanager
def _csv_errors(path: Path, columns: list[str]) -> Iterator[None]:
    """Turn pandas' parsing exceptions into InputErrors that say where the file went wrong."""
    import pandas as pd

    try:
        with warnings.catch_warnings():
            # pandas only *warns* when the first data row has more fields than the header
            warnings.simplefilter("error", pd.errors.ParserWarning)
            yield
    except pd.errors.ParserWarning:
        raise InputError(f"{path}, line 2: more fields than the header's columns") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} is empty; expected a header line {','.join(columns[:2])},...") from None
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        detail = f"line {found[2]}: expected {found[1]} fields, found {found[3]}" if found else str(error)
        raise InputError(f"{path}, {detail}") from None
    except (OSError, UnicodeDecodeError, EOFError) as error:  # before ValueError: a decoding error is one
        raise InputError(f"{path} could not be read as CSV: {error}") from None
    except ValueError as error:  # a value that is not a number: find it and say where
        _raise_first_non_number(path, error)


def _check_header(path: Path, found: list[str], expected: list[str]) -> None:
    if found == expected:
        return
    what = "a training file (label,pixel0,...,pixel783)" if expected[0] == "label" else "a test file (pixel0,...,pixel783)"
    if found[:1] == ["label"] and expected[0] != "label" or found[:1] == ["pixel0"] and expected[0] == "label":
        hint = " (is the label column missing, or extra? train.csv has it, test.csv does not)"
    elif len(found) == 1 and ";" in str(found[0]):
        hint = " (the values look separated by ';': save the file with commas)"
    elif len(found) != len(expected):
        hint = ""
    else:
        column = next(i for i, (f, e) in enumerate(zip(found, expected)) if f != e)
        hint = f": column {column + 1} is {found[column]!r}, expected {expected[column]!r}"
    raise InputError(
        f"{path}, line 1: wrong header for {what}: found {len(found)} columns starting "
        f"{','.join(str(f)[:20] for f in found[:3])},..., expected {len(expected)}{hint}"
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


def _raise_first_non_number(path: Path, error: ValueError) -> None:
    """Slow path, only on error: read everything as text to find the first non-number."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, index_col=False, keep_default_na=False, encoding="utf-8-sig")
    numbers = frame.apply(pd.to_numeric, errors="coerce")
    bad = np.argwhere((numbers.isna() & (frame != "")).to_numpy())
    if len(bad) == 0:
        raise InputError(f"{path} could not be parsed: {error}") from None
    row, col = bad[0]
    raise InputError(
        f"{path}, line {row + 2}, column {frame.columns[col]!r}: {frame.iat[row, col]!r} is not a number"
    ) from None


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
        except (OSError, InputError) as error:  # a read-only checkout still trains, only slower
            print(f"warning: could not write the data cache {cache}: {error}", file=sys.stderr)
    return result


def normalize(pixels: np.ndarray) -> np.ndarray:
    """uint8 0-255 -> float32 0-1: inputs of order 1 suit the initial weights' scale."""
    return np.multiply(pixels, DTYPE(1 / 255), dtype=DTYPE, order="C")  # C order: one image per contiguous row


# Your own digit: a photo or scan is not an MNIST image. MNIST digits are white ink on
# black, scaled so the longer side is 20 pixels (anti-aliased), and placed in a 28x28
# frame with their centre of mass at the centre. preprocess_image() does the same.

WORKING_SIZE = 256  # big photos are shrunk to this first: plenty for a digit, and fast


def read_grayscale(path: str | Path) -> np.ndarray:
    """Any image Pillow reads (L, RGB, RGBA, P, 16-bit, ...) -> (H, W) float32 luminance in [0, 1].

    Transparent pixels are laid on a background that contrasts with the ink, so strokes
    drawn on a transparent canvas survive whatever their colour.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)  # phone photos: apply the camera's rotation
            image.thumbnail((WORKING_SIZE, WORKING_SIZE))  # shrink in place, keeping the aspect ratio
            if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16/32-bit: scale by the type's range
                values = np.asarray(image, dtype=np.float32)
                gray, alpha = values / (65535 if values.max() > 255 else 255), None
            else:
                rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255  # (H, W, 4)
                gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601 luma, as Pillow's "L"
                alpha = rgba[..., 3]
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image (Pillow cannot identify its format)") from None
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise InputError(f"{path}: unreadable image ({error})") from None
    if alpha is not None and alpha.min() < 1:
        ink_is_dark = (gray * alpha).sum() / max(alpha.sum(), 1e-6) < 0.5
        gray = alpha * gray + (1 - alpha) * (1.0 if ink_is_dark else 0.0)
    return np.clip(gray, 0, 1)


def ink_map(gray: np.ndarray) -> np.ndarray:
    """(H, W) luminance -> (H, W) ink in [0, 1]: 0 where there is only paper.

    Polarity from the border: a light border means dark ink on light paper. The paper's
    own level is estimated locally (a grey closing wider than the strokes, from Pillow's
    MinFilter/MaxFilter), so uneven lighting and grey paper are removed too.
    """
    from PIL import Image, ImageFilter

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    dark_ink = np.median(border) > 0.5
    ink = 1 - gray if dark_ink else gray  # now ink is bright on a dark background
    # The background level: a grey opening (min filter, then max filter) a third of the image
    # wide wipes out the strokes and keeps the slowly varying paper. It is computed on a 64 px
    # copy (the background is smooth; full size would be slow) and scaled back up.
    image = Image.fromarray(ink.astype(np.float32), mode="F")
    small = image.resize((max(1, ink.shape[1] * 64 // max(ink.shape)), max(1, ink.shape[0] * 64 // max(ink.shape))), Image.Resampling.BOX)
    size = 2 * (max(small.size) // 6) + 1
    background = small.filter(ImageFilter.MinFilter(size)).filter(ImageFilter.MaxFilter(size))
    ink = ink - np.asarray(background.resize(image.size, Image.Resampling.BILINEAR), dtype=np.float32)
    if ink.max() < 0.1:  # less than 10% contrast anywhere: no digit to see
        return np.zeros_like(ink)
    # Contrast: strongest ink -> 1; below 20% of it is paper texture or JPEG noise -> 0.
    return np.clip((ink / ink.max() - 0.2) / 0.8, 0, 1)


def to_mnist_frame(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink -> (784,) like an MNIST digit: bounding box, longer side 20 px, centre of mass centred."""
    from PIL import Image

    rows, cols = np.nonzero(ink)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    digit = ink[top:bottom, left:right]
    height, width = digit.shape
    scale = 20 / max(height, width)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))  # Pillow sizes are (width, height)
    small = np.asarray(Image.fromarray(digit.astype(np.float32), mode="F").resize(new_size, Image.Resampling.LANCZOS))
    small = np.clip(small, 0, None)
    small = small / max(small.max(), 1e-6)  # strongest stroke -> 1 again after anti-aliasing
    # Centre of mass -> the frame's centre (13.5, 13.5), rounded to whole pixels.
    ys, xs = np.indices(small.shape)
    total = small.sum()
    com_y, com_x = (ys * small).sum() / total, (xs * small).sum() / total
    top = int(np.clip(round(13.5 - com_y), 0, 28 - small.shape[0]))
    left = int(np.clip(round(13.5 - com_x), 0, 28 - small.shape[1]))
    frame = np.zeros((28, 28), DTYPE)
    frame[top : top + small.shape[0], left : left + small.shape[1]] = small
    return frame.reshape(N_PIXELS)


def preprocess_image(path: str | Path) -> np.ndarray:
    """An image file of one digit -> (784,) float32 in [0, 1], white ink on black, like MNIST."""
    ink = ink_map(read_grayscale(path))
    if not ink.any():
        raise InputError(f"{path}: no ink found (the image looks blank: one flat colour)")
    return to_mnist_frame(ink)


def save_preprocessed(image: np.ndarray, path: Path) -> None:
    """The 28x28 image the network saw, as an 8-bit PNG (white ink on black)."""
    from PIL import Image

    with atomic_write(path) as f:
        Image.fromarray(np.round(image.reshape(28, 28) * 255).astype(np.uint8), mode="L").save(f, format="PNG")


# ---------------------------------------------------------------------------
# 5. Plots
# ---------------------------------------------------------------------------


def save_figure(fig: "matplotlib.figure.Figure", path: Path) -> None:
    with atomic_write(path) as f:
        fig.savefig(f, format=path.suffix.lstrip("."), dpi=100, bbox_inches="tight")


def plot_digit_grid(images: np.ndarray, captions: list[str], colors: list[str], title: str, path: Path, cols: int = 8) -> "matplotlib.figure.Figure":
    """Digits in a grid, each with a caption above it, drawn as one mosaic image (fast)."""
    import matplotlib.pyplot as plt

    n, rows = len(images), max(1, -(-len(images) // cols))
    lines = max(caption.count("\n") + 1 for caption in captions) if captions else 1
    top = 4 + 9 * lines  # pixels of room above each digit for its caption
    height, width = top + 28, 28 + 6
    tiles = np.zeros((rows * cols, height, width))
    tiles[:n, top:, 3:31] = images.reshape(n, 28, 28)
    mosaic = tiles.reshape(rows, cols, height, width).transpose(0, 2, 1, 3).reshape(rows * height, cols * width)
    fig, ax = plt.subplots(figsize=(cols * 1.25, rows * height / 28 * 1.25 + 0.5))
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    for i, (caption, color) in enumerate(zip(captions, colors)):
        row, col = divmod(i, cols)
        ax.text(col * width + width / 2, row * height + top / 2, caption, ha="center", va="center", color=color, fontsize=8)
    ax.set_title(title)
    save_figure(fig, path)
    return fig


def plot_predictions(
    images: np.ndarray, labels: np.ndarray, predicted: np.ndarray, path: Path, what: str = "validation digits"
) -> "matplotlib.figure.Figure":
    """The first len(predicted) digits with their predictions; mistakes in red with the true digit."""
    n = len(predicted)
    wrong = predicted != labels[:n]
    captions = [f"{p} (true {t})" if w else f"{p}" for p, t, w in zip(predicted, labels, wrong)]
    colors = ["red" if w else "black" for w in wrong]
    title = f"Predictions on {what} ({int(wrong.sum())} of {n} wrong, in red)"
    return plot_digit_grid(images[:n], captions, colors, title, path)


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


def plot_confusion_matrix(labels: np.ndarray, predicted: np.ndarray, path: Path, what: str = "validation digits") -> "matplotlib.figure.Figure":
    """Counts of true digit (rows) against predicted digit (columns), from scikit-learn."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(7, 6))
    ConfusionMatrixDisplay.from_predictions(labels, predicted, ax=ax, cmap="Blues", colorbar=True)
    ax.set_title(f"Confusion matrix: {len(labels):,} {what}\n{100 * (labels == predicted).mean():.2f}% on the diagonal (right)")
    ax.set(xlabel="predicted digit", ylabel="true digit")
    save_figure(fig, path)
    return fig


def plot_confident_mistakes(images: np.ndarray, labels: np.ndarray, probs: np.ndarray, path: Path, n: int = 24) -> "matplotlib.figure.Figure":
    """The wrong predictions the network was most sure of, with both probabilities."""
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    shown = wrong[np.argsort(-probs[wrong, predicted[wrong]])][:n]  # most confident first
    captions = [f"said {predicted[i]} {100 * probs[i, predicted[i]]:.0f}%\ntrue {labels[i]} {100 * probs[i, labels[i]]:.0f}%" for i in shown]
    title = f"The {len(shown)} most confident mistakes (of {len(wrong)}): predicted and true digit with their probabilities"
    return plot_digit_grid(images[shown], captions, ["red"] * len(shown), title, path)


def plot_first_layer_weights(network: NeuralNetwork, path: Path) -> "matplotlib.figure.Figure":
    """Each first-layer unit's 784 weights as a 28x28 image: the pattern that unit responds to."""
    import matplotlib.pyplot as plt

    weights = network.layers[0].weights  # (784, n_hidden): column j is unit j's template
    n_units, cols = weights.shape[1], 16
    rows = -(-n_units // cols)
    # One mosaic image: tiles of 28x28 with a 1-pixel gap (NaN, drawn grey) between them.
    tiles = np.full((rows * cols, 29, 29), np.nan)
    tiles[:n_units, :28, :28] = weights.T.reshape(n_units, 28, 28)
    mosaic = tiles.reshape(rows, cols, 29, 29).transpose(0, 2, 1, 3).reshape(rows * 29, cols * 29)
    limit = np.percentile(np.abs(weights), 99.5)  # a few extreme weights would wash out the rest
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="0.85")
    fig, ax = plt.subplots(figsize=(cols * 0.75, rows * 0.75 + 0.8))
    shown = ax.imshow(mosaic, cmap=cmap, vmin=-limit, vmax=limit)
    ax.axis("off")
    fig.colorbar(shown, ax=ax, shrink=0.8, extend="both", label="weight (red: ink here raises the unit, blue: lowers it)")
    ax.set_title(f"What each of the {n_units} first-layer units looks for: its weights on the 28x28 pixels")
    save_figure(fig, path)
    return fig


def write_figures(network: NeuralNetwork, X: np.ndarray, y: np.ndarray, history: list[dict] | None, folder: Path, what: str) -> list[str]:
    """Every figure of a trained network, on the images X with labels y; returns the file names."""
    probs = network.predict_proba(X)
    predicted = probs.argmax(axis=1)
    plot_predictions(X, y, predicted[:32], folder / "predictions.png", what)
    plot_confusion_matrix(y, predicted, folder / "confusion_matrix.png", what)
    plot_confident_mistakes(X, y, probs, folder / "confident_mistakes.png")
    plot_first_layer_weights(network, folder / "first_layer_weights.png")
    names = ["predictions.png", "confusion_matrix.png", "confident_mistakes.png", "first_layer_weights.png"]
    if history:
        plot_training_curves(history, folder / "training_curves.png")
        names.append("training_curves.png")
    return names


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
#   python src/NN_Numpy.py [options]              train, evaluate, save the model, plot
#   python src/NN_Numpy.py predict IMAGE [...]    classify your own images of digits
#   python src/NN_Numpy.py submit                 Kaggle submission for test.csv
#   python src/NN_Numpy.py report                 figures and summary of a trained model
#   python src/NN_Numpy.py gradcheck              backpropagation against finite differences
#   python src/NN_Numpy.py explain                the shapes of one training step

SUBMISSION_PATH = PROJECT_ROOT / "models" / "submission.csv"


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="NN_Numpy.py",
        description="Train a fully connected network, written in NumPy, on Kaggle's Digit Recognizer (MNIST) data. "
        "With no command it trains; the commands below use the trained model.",
        formatter_class=formatter,
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
    add("--weight-decay", type=float, default=defaults.weight_decay, help="L2 penalty on the parameters")
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
    add("--model", type=Path, default=MODEL_PATH, help="where to save the trained model (.npz); its run record goes next to it (.json)")
    add("--figures-dir", type=Path, default=FIGURES_DIR, help="where to save the figures")
    add("--no-plots", action="store_true", help="skip the figures")

    commands = parser.add_subparsers(dest="command", title="commands", metavar="{predict,submit,report,gradcheck,explain}")
    predict = commands.add_parser("predict", formatter_class=formatter, help="classify your own images of digits",
                                  description="Classify image files (PNG, JPEG, ...) of single handwritten digits.")
    predict.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files, one digit each")
    predict.add_argument("--model", type=Path, default=MODEL_PATH, help="trained model (.npz)")
    predict.add_argument("--save-preprocessed", type=Path, metavar="DIR", help="also write the 28x28 image the network saw, as DIR/<name>.28x28.png")
    submit = commands.add_parser("submit", formatter_class=formatter, help="write a Kaggle submission for test.csv",
                                 description="Predict every row of Kaggle's test.csv and write ImageId,Label.")
    submit.add_argument("--model", type=Path, default=MODEL_PATH, help="trained model (.npz)")
    submit.add_argument("--test", type=Path, default=None, help="test CSV; default: data/raw/test.csv if there, else the bundled copy")
    submit.add_argument("--out", type=Path, default=SUBMISSION_PATH, help="where to write the submission CSV")
    report = commands.add_parser("report", formatter_class=formatter, help="figures and a summary of a trained model",
                                 description="Redraw the figures of a trained model on its validation split and print its run record.")
    report.add_argument("--model", type=Path, default=MODEL_PATH, help="trained model (.npz), with its run record (.json) next to it")
    report.add_argument("--figures-dir", type=Path, default=FIGURES_DIR, help="where to save the figures")
    gradcheck = commands.add_parser("gradcheck", formatter_class=formatter, help="check backpropagation against finite differences",
                                    description="Compare every parameter array's backpropagated gradient with central finite "
                                    "differences, in float64, on a small batch of real training images.")
    gradcheck.add_argument("--model", type=Path, default=None, help="check at a trained model's weights (default: freshly initialised)")
    gradcheck.add_argument("--batch-size", type=int, default=8, help="images in the batch")
    gradcheck.add_argument("--entries", type=int, default=30, help="random entries checked per parameter array")
    gradcheck.add_argument("--seed", type=int, default=0, help="picks the images, the entries and the initial weights")
    gradcheck.add_argument("--data-dir", type=Path, default=None, help="folder with train.csv[.gz]")
    explain = commands.add_parser("explain", formatter_class=formatter, help="print every matrix multiply of one training step",
                                  description="Run one forward and backward pass on a real batch and print each layer's shapes "
                                  "and matrix multiplies, in the notation of the code's comments.")
    explain.add_argument("--batch-size", type=int, default=defaults.batch_size, help="images in the batch")
    explain.add_argument("--seed", type=int, default=0, help="picks the images and the initial weights")
    explain.add_argument("--data-dir", type=Path, default=None, help="folder with train.csv[.gz]")
    return parser


def train_config_from(args: argparse.Namespace) -> TrainConfig:
    """The training settings of the command line; a value out of range raises ValueError naming the option."""
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
    return config


def display_path(path: Path) -> str:
    """A path relative to the project when it is inside it, for short messages."""
    with contextlib.suppress(ValueError):
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    return str(path)


def load_split(data_dir: Path | None, limit: int | None, val_fraction: float, seed: int, train_on_all: bool) -> dict:
    """The labelled data, normalised and split as training and report both need it.

    Returns {"source", "sha256", "rows", "X_train", "y_train", "X_val", "y_val"}; the
    validation part is None with train_on_all.
    """
    train_file = find_data_file("train", data_dir)
    data = load_digits(train_file)
    pixels, labels = data["pixels"][:limit], data["labels"][:limit]
    split = {"source": train_file, "sha256": data["sha256"], "rows": len(data["labels"])}
    if train_on_all:
        return {**split, "X_train": normalize(pixels), "y_train": labels, "X_val": None, "y_val": None}
    from sklearn.model_selection import train_test_split

    try:  # split row numbers, then normalise each part: no full-size float copy in memory
        train_rows, val_rows = train_test_split(np.arange(len(labels)), test_size=val_fraction, stratify=labels, random_state=seed)
    except ValueError as error:  # e.g. --limit too small for a stratified split
        raise InputError(f"cannot split {len(labels)} rows into training and validation: {error}; use more rows (--limit)") from None
    return {**split, "X_train": normalize(pixels[train_rows]), "y_train": labels[train_rows],
            "X_val": normalize(pixels[val_rows]), "y_val": labels[val_rows]}


def record_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".json")


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"python": sys.version.split()[0], **{name: version(name) for name in ("numpy", "pandas", "scikit-learn", "matplotlib", "pillow")}}


def classification_table(y: np.ndarray, predicted: np.ndarray, as_dict: bool = False) -> str | dict:
    """Per-digit precision, recall and F1, from scikit-learn."""
    from sklearn.metrics import classification_report

    return classification_report(y, predicted, digits=4, output_dict=as_dict, zero_division=0)


def train_command(args: argparse.Namespace, config: TrainConfig) -> int:
    start = time.perf_counter()
    data = load_split(args.data_dir, args.limit, args.val_fraction, args.seed, args.train_on_all)
    origin = "bundled MNIST copy" if data["source"].parent == BUNDLED_DATA_DIR else "your file"
    print(f"Data: {display_path(data['source'])} ({origin}), {data['rows']:,} rows, loaded and split in {time.perf_counter() - start:.2f}s")
    X_train, y_train, X_val, y_val = data["X_train"], data["y_train"], data["X_val"], data["y_val"]
    if X_val is None:
        print(f"Training on all {len(y_train):,} labelled rows (--train-on-all: no validation split)")
    else:
        print(f"Split: {len(y_train):,} training, {len(y_val):,} validation rows (stratified, seed {args.seed})")

    sizes = [N_PIXELS, *args.hidden, N_CLASSES]
    activations = [args.activation] * len(args.hidden) + ["softmax"]
    network = NeuralNetwork(sizes, activations, seed=args.seed)
    print(f"Network: {'-'.join(map(str, sizes))} ({', '.join(activations)}), {network.parameters.size:,} parameters")
    print("Training: " + ", ".join(f"{k}={v}" for k, v in vars(config).items()))

    start = time.perf_counter()
    try:
        history = network.fit(X_train, y_train, X_val, y_val, config, log=lambda line: print(line, flush=True))
    except TrainingDiverged as error:
        print(f"error: {error}. No model was saved.", file=sys.stderr)
        return 1
    train_seconds = time.perf_counter() - start
    X_eval, y_eval, what = (X_train, y_train, "training digits") if X_val is None else (X_val, y_val, "validation digits")
    val_loss, accuracy = network.evaluate(X_eval, y_eval)
    print(f"Validation Accuracy: {100 * accuracy:.2f}%" if X_val is not None else f"Training Accuracy: {100 * accuracy:.2f}% (no validation split)")

    network.save(args.model)
    best_epoch = max(history, key=lambda h: h.get("val_accuracy", 0))["epoch"] if X_val is not None and config.restore_best else history[-1]["epoch"]
    record = {
        "model": args.model.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": ["python", "src/NN_Numpy.py", *args.argv],
        "settings": {**vars(config), "hidden": args.hidden, "activation": args.activation, "val_fraction": args.val_fraction,
                     "train_on_all": args.train_on_all, "limit": args.limit, "data_dir": str(args.data_dir) if args.data_dir else None},
        "data": {"train": {"path": display_path(data["source"]), "sha256": data["sha256"], "rows": data["rows"]}},
        "versions": library_versions(),
        "history": history,
        "metrics": {
            "evaluated_on": what, "accuracy": accuracy, "loss": val_loss, "best_epoch": best_epoch, "train_seconds": train_seconds,
            "per_class": classification_table(y_eval, network.predict(X_eval), as_dict=True),
        },
    }
    with atomic_write(record_path(args.model)) as f:
        f.write(json.dumps(record, indent=1).encode())
    print(f"Model saved to {display_path(args.model)}, run record to {display_path(record_path(args.model))}")
    if not args.no_plots:
        names = write_figures(network, X_eval, y_eval, history, args.figures_dir, what)
        print(f"Figures saved to {display_path(args.figures_dir)}/: {', '.join(names)}")
        show_figures_if_possible()
    return 0


def load_model_for_use(path: Path) -> NeuralNetwork:
    network = NeuralNetwork.load(path)
    if network.layer_sizes[0] != N_PIXELS or network.layer_sizes[-1] != N_CLASSES:
        raise InputError(f"{path} maps {network.layer_sizes[0]} inputs to {network.layer_sizes[-1]} outputs; a digit model maps 784 to 10")
    return network


def predict_command(args: argparse.Namespace) -> int:
    """One line per image: the digit, its probability, and the two runners-up. Bad files are
    reported and skipped; the others are still predicted; the exit status says if any failed."""
    network = load_model_for_use(args.model)
    paths, images, failed = [], [], 0
    for path in args.images:
        try:
            image = preprocess_image(path)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        if args.save_preprocessed:
            save_preprocessed(image, args.save_preprocessed / f"{path.stem}.28x28.png")
        paths.append(path)
        images.append(image)
    if images:
        for path, probs in zip(paths, network.predict_proba(np.stack(images))):
            first, *runners_up = np.argsort(-probs)[:3]
            others = ", ".join(f"{d} ({100 * probs[d]:.1f}%)" for d in runners_up)
            print(f"{path}: {first} ({100 * probs[first]:.1f}%)  runner-up: {others}")
    if args.save_preprocessed and images:
        print(f"The 28x28 images the network saw are in {args.save_preprocessed}/")
    if failed:
        print(f"error: {failed} of {len(args.images)} images could not be read (see above)", file=sys.stderr)
    return 1 if failed else 0


def check_submission(text: str, n_rows: int) -> None:
    """Read the submission back as Kaggle would; any surprise is a bug, not the user's fault."""
    import pandas as pd

    sample = BUNDLED_DATA_DIR / "sample_submission.csv"
    expected_columns = list(pd.read_csv(sample, nrows=0).columns) if sample.is_file() else ["ImageId", "Label"]
    frame = pd.read_csv(io.StringIO(text))
    problems = [
        (list(frame.columns) == expected_columns, f"columns {list(frame.columns)}, expected {expected_columns}"),
        (len(frame) == n_rows, f"{len(frame)} rows, expected {n_rows}"),
        (frame["ImageId"].tolist() == list(range(1, n_rows + 1)), f"ImageId is not 1..{n_rows} in order"),
        (frame["Label"].dtype.kind == "i" and frame["Label"].between(0, 9).all(), "labels are not integers 0-9"),
    ]
    for ok, problem in problems:
        if not ok:
            raise RuntimeError(f"the submission failed its own check: {problem}")


def submit_command(args: argparse.Namespace) -> int:
    import pandas as pd

    network = load_model_for_use(args.model)
    test_file = args.test if args.test is not None else find_data_file("test")
    if not test_file.is_file():
        raise InputError(f"{test_file}: no such file; pass Kaggle's test.csv with --test")
    pixels = load_digits(test_file, labelled=False)["pixels"]
    labels = network.predict(normalize(pixels))
    text = pd.DataFrame({"ImageId": np.arange(1, len(labels) + 1), "Label": labels}).to_csv(index=False)
    check_submission(text, len(pixels))
    with atomic_write(args.out) as f:
        f.write(text.encode())
    counts = ", ".join(f"{d}: {n}" for d, n in enumerate(np.bincount(labels, minlength=10)))
    print(f"Submission for {len(labels):,} rows of {display_path(test_file)} written to {display_path(args.out)}")
    print(f"Checked: header ImageId,Label, ImageId 1..{len(labels)}, labels 0-9 (counts {counts})")
    return 0


def report_command(args: argparse.Namespace) -> int:
    network = load_model_for_use(args.model)
    path = record_path(args.model)
    try:
        record = json.loads(path.read_text())
        settings, history, metrics = record["settings"], record["history"], record["metrics"]
    except FileNotFoundError:
        raise InputError(f"no run record at {path}; training writes it next to the model: python src/NN_Numpy.py") from None
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path} is not a valid run record ({error}); retrain to write a new one") from None
    data = load_split(Path(settings["data_dir"]) if settings["data_dir"] else None, settings["limit"],
                      settings["val_fraction"], settings["seed"], settings["train_on_all"])
    if data["sha256"] != record["data"]["train"]["sha256"]:
        print(f"warning: {display_path(data['source'])} has changed since training; the figures use the file as it is now", file=sys.stderr)
    X, y, what = (data["X_train"], data["y_train"], "training digits") if data["X_val"] is None else (data["X_val"], data["y_val"], "validation digits")
    print(f"Model: {display_path(args.model)}, trained {record['created']} with: {' '.join(record['command'])}")
    print("Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    print(f"Data: {record['data']['train']['path']} (sha256 {record['data']['train']['sha256'][:16]}...)")
    print(f"Training: {len(history)} epochs in {metrics['train_seconds']:.1f}s, best epoch {metrics['best_epoch']}")
    print(f"Accuracy on {len(y):,} {what}: {100 * network.accuracy(X, y):.2f}% (at training time: {100 * metrics['accuracy']:.2f}%)")
    print(classification_table(y, network.predict(X)))
    names = write_figures(network, X, y, history, args.figures_dir, what)
    print(f"Figures saved to {display_path(args.figures_dir)}/: {', '.join(names)}")
    show_figures_if_possible()
    return 0


def random_batch(data_dir: Path | None, batch_size: int, seed: int, dtype=DTYPE) -> tuple[np.ndarray, np.ndarray]:
    """`batch_size` random labelled images from the training file, normalised."""
    if batch_size < 1:
        raise InputError(f"--batch-size must be >= 1, got {batch_size}")
    data = load_digits(find_data_file("train", data_dir))
    rows = np.random.default_rng(seed).choice(len(data["labels"]), size=batch_size, replace=False)
    return normalize(data["pixels"][rows]).astype(dtype), data["labels"][rows]


def gradcheck_command(args: argparse.Namespace, tolerance: float = 1e-6) -> int:
    if args.entries < 1:
        raise InputError(f"--entries must be >= 1, got {args.entries}")
    network = NeuralNetwork.load(args.model, dtype=np.float64) if args.model else NeuralNetwork(seed=args.seed, dtype=np.float64)
    x, labels = random_batch(args.data_dir, args.batch_size, args.seed, np.float64)
    print(f"Gradient check: network {'-'.join(map(str, network.layer_sizes))}, {'weights of ' + str(args.model) if args.model else 'initial weights'}, "
          f"float64, a batch of {len(x)} real training images, central differences (eps 1e-6), {args.entries} random entries per array")
    errors = gradient_check(network, x, labels, entries=args.entries, seed=args.seed)
    shapes = {f"{name}_{i}": getattr(layer, name).shape for i, layer in enumerate(network.layers) for name in ("weights", "bias")}
    for name, error in errors.items():
        print(f"  {name:<10} {str(shapes[name]):<11} relative error {error:.2e}  {'ok' if error < tolerance else 'FAIL'}")
    worst = max(errors.values())
    passed = worst < tolerance
    print(f"{'PASS' if passed else 'FAIL'}: largest relative error {worst:.2e} ({'<' if passed else '>='} {tolerance:g})")
    return 0 if passed else 1


def explain_command(args: argparse.Namespace) -> int:
    x, labels = random_batch(args.data_dir, args.batch_size, args.seed)
    print("\n".join(explain_step(NeuralNetwork(seed=args.seed), x, labels)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for the run record
    try:
        if args.command == "predict":
            return predict_command(args)
        if args.command == "submit":
            return submit_command(args)
        if args.command == "report":
            return report_command(args)
        if args.command == "gradcheck":
            return gradcheck_command(args)
        if args.command == "explain":
            return explain_command(args)
        try:
            config = train_config_from(args)
        except ValueError as error:
            parser.error(str(error))  # exits with status 2, after the usage line
        return train_command(args, config)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # e.g. a disk that fills up; nothing half-written is left behind
        print(f"error: {error.strerror or error}: {error.filename or ''}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: files are only ever replaced whole, so nothing is damaged
        print("\ninterrupted: nothing was saved from the unfinished step", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
