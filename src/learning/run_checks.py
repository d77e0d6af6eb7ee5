"""What a training run is given, checked before it starts (the arrays, the settings), and
the one line it ends with if the loss blows up. It trains nothing; NN_Numpy.py does.
"""

from __future__ import annotations

import numpy as np

from files.errors import InputError
from files.run_record import SETTING_RULES


def check_arrays(X, y, layer_sizes: list[int], dtype):
    """X as (N, n_in) finite numbers in `dtype`, for a network of these layer sizes; and y, if
    given, as N labels 0 to n_classes - 1: X, or (X, y). Anything else is an InputError."""
    X = np.asarray(X)
    n_in = layer_sizes[0]
    n_classes = layer_sizes[-1]
    if X.ndim != 2 or X.shape[1] != n_in:
        raise InputError(f"expected an array (N, {n_in}) of pixels in [0, 1], got {X.shape}")
    if X.dtype.kind not in "biuf":
        raise InputError(f"expected real numbers, got dtype {X.dtype}")
    if not np.isfinite(X).all():
        raise InputError("input contains NaN or infinite values")
    if y is None:
        return X.astype(dtype, copy=False)
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise InputError(f"expected {len(X)} labels, one per image, got shape {y.shape}")
    if y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() >= n_classes)):
        raise InputError(f"labels must be whole numbers 0-{n_classes - 1}")
    return X.astype(dtype, copy=False), y


def check_settings(config) -> None:
    """Refuse training settings that cannot train (NN_Numpy.TrainConfig), naming the
    command-line option: a ValueError, which NN_Numpy.main() turns into a usage error."""
    for name, (_, in_range, rule) in SETTING_RULES.items():
        value = getattr(config, name)
        if not in_range(value):
            raise ValueError(f"--{name.replace('_', '-')} {rule}, got {value}")


def divergence_message(loss: float, epoch: int, batch: int, config) -> str:
    """NN_Numpy.train's error when the loss is no longer finite, in one line: where the loss
    blew up, and which option to lower. Usually the learning rate. Weight decay alone can blow
    SGD up too: on the L2 term alone, SGD with momentum m grows without bound once
    lr * weight_decay > 2 * (1 + m). Then weight decay is named, unless the learning rate is
    further above its default (the likelier mistake)."""
    name = "learning_rate"
    value = config.learning_rate
    decay_unstable = config.learning_rate * config.weight_decay > 2 * (1 + config.momentum)
    decay_further_off = config.weight_decay / 1e-4 > config.learning_rate / 0.1  # the defaults
    if config.optimizer == "sgd" and decay_unstable and decay_further_off:
        name = "weight_decay"
        value = config.weight_decay
    return (
        f"the training loss became {loss} in epoch {epoch}, batch {batch}; try a smaller "
        f"{name.replace('_', ' ')} (--{name.replace('_', '-')} {value / 10:g})"
    )
