"""The math, checked and shown: backpropagation against finite differences, one training
step's matrix multiplies with their real shapes, and the gradient of a digit's score with
respect to the pixels (the heat maps). The notebook imports this module: it needs NN_Numpy
only, no web server and no plotting.

    python src/use_network.py gradcheck     # prints gradient_check's table
    python src/use_network.py explain       # prints explain_step's lines
"""

from __future__ import annotations

import numpy as np

import NN_Numpy as nn
from files import kaggle_csv


def input_gradient(network: nn.NeuralNetwork, x: np.ndarray, digit: int) -> np.ndarray:
    """d(logit of `digit`) / d(pixel) for one image x (1, 784): the pixels that pushed towards
    that answer (> 0: more ink there raises its score). The network's own backward pass,
    started from a one-hot instead of the loss's gradient, carried through the first layer."""
    logits = network.forward(x)  # (1, 10)
    grad_logits = nn.one_hot(np.array([digit]), logits.shape[1], logits.dtype)  # (1, 10)
    return network.backward(grad_logits, need_grad_input=True)[0]  # (784,)


def gradient_check(network, x, labels, entries=30, eps=1e-6, seed=0) -> dict[str, float]:
    """Backpropagation's gradients against central finite differences, per parameter array.

    For `entries` random entries of every weight and bias array, the numerical gradient
    (L(theta + eps) - L(theta - eps)) / 2 eps is compared with the analytic one. Returns
    {"weights_0": relative error, "bias_0": ...}, the error being max |analytic - numeric|
    / max(|analytic|, |numeric|) over the entries checked. Use a float64 network: in
    float32, rounding alone gives errors near 1e-3.
    """
    rng = np.random.default_rng(seed)

    def loss() -> float:
        return nn.softmax_cross_entropy(network.forward(x), labels)[0]

    network.backward(nn.softmax_cross_entropy(network.forward(x), labels)[1])
    names = [f"{kind}_{i}" for i in range(len(network.layers)) for kind in ("weights", "bias")]
    errors = {}
    for name, param, grad in zip(names, network.parameters(), network.gradients()):
        flat_param, analytic = param.reshape(-1), grad.reshape(-1).copy()
        picked = rng.choice(flat_param.size, size=min(entries, flat_param.size), replace=False)
        numeric = np.empty(len(picked))
        for k, j in enumerate(picked):
            saved = flat_param[j]
            flat_param[j] = saved + eps
            plus = loss()
            flat_param[j] = saved - eps
            minus = loss()
            flat_param[j] = saved
            numeric[k] = (plus - minus) / (2 * eps)
        scale = max(np.abs(analytic[picked]).max(), np.abs(numeric).max(), 1e-12)
        errors[name] = float(np.abs(analytic[picked] - numeric).max() / scale)
    return errors


def explain_step(network: nn.NeuralNetwork, x, labels) -> list[str]:
    """One forward and backward pass, each matrix multiply described with its real shapes."""
    sizes = "-".join(map(str, network.layer_sizes))
    lines = [f"One training step on a batch of B={len(x)} images, network {sizes}", "forward:"]
    logits = network.forward(x)
    for i, layer in enumerate(network.layers, 1):
        last = i == len(network.layers)
        output = "z, the logits (softmax is in the loss)" if last else f"{layer.activation}(z)"
        shapes = f"{layer.input.shape} @ {layer.weights.shape} + {layer.bias.shape}"
        lines.append(
            f"  layer {i}: z = input @ weights + bias: {shapes} -> "
            f"{layer.output.shape}; output = {output}"
        )
    loss, grad_logits = nn.softmax_cross_entropy(logits, labels)
    lines.append(
        f"loss: mean cross-entropy {loss:.4f}; dL/dlogits = (softmax(logits) - onehot)"
        f" / {len(x)}: {grad_logits.shape}"
    )
    lines.append("backward:")
    grad = grad_logits
    for i in reversed(range(len(network.layers))):
        layer = network.layers[i]
        grad_in = layer.backward(grad, need_grad_input=i > 0)
        how = (
            "dL/doutput (softmax in the loss)"
            if layer.activation == "identity"
            else f"dL/doutput * {layer.activation}'(z)"
        )
        text = (
            f"  layer {i + 1}: grad_z = {how}: {grad.shape}; grad_weights = input.T @ grad_z:"
            f" {layer.input.T.shape} @ {grad.shape} -> {layer.grad_weights.shape}; grad_bias ="
            f" sum over the batch: {layer.grad_bias.shape}"
        )
        if grad_in is None:
            text += "; no grad_input (first layer)"
        else:
            text += (
                f"; grad_input = grad_z @ weights.T: {grad.shape} @ {layer.weights.T.shape}"
                f" -> {grad_in.shape}"
            )
        lines.append(text)
        grad = grad_in
    n = sum(p.size for p in network.parameters())
    lines.append(f"update: each of the {n:,} parameters moves against its gradient (SGD step)")
    return lines


def random_batch(data_dir, batch_size: int, seed: int, dtype=nn.DTYPE):
    """`batch_size` random labelled images from the training file, normalised: (B, 784), (B,)."""
    pixels, labels = kaggle_csv.read_digits_csv(kaggle_csv.find_data_file("train", data_dir))
    rows = np.random.default_rng(seed).choice(
        len(labels), size=min(batch_size, len(labels)), replace=False
    )
    return nn.normalize(pixels[rows]).astype(dtype), labels[rows]


def print_gradient_check(network, x, labels, weights: str, entries: int, seed: int) -> bool:
    """gradient_check's errors as a table, one line per parameter array, and PASS or FAIL:
    True when every relative error is below 1e-6."""
    tolerance = 1e-6
    print(
        f"Gradient check: network {'-'.join(map(str, network.layer_sizes))}, {weights}, "
        f"float64, a batch of {len(x)} real training images, central differences "
        f"(eps 1e-6), {entries} random entries per array"
    )
    errors = gradient_check(network, x, labels, entries=entries, seed=seed)
    for (name, error), param in zip(errors.items(), network.parameters()):
        verdict = "ok" if error < tolerance else "FAIL"
        print(f"  {name:<10} {str(param.shape):<11} relative error {error:.2e}  {verdict}")
    worst = max(errors.values())
    passed = worst < tolerance
    print(
        f"{'PASS' if passed else 'FAIL'}: largest relative error {worst:.2e} "
        f"({'<' if passed else '>='} {tolerance:g})"
    )
    return passed
