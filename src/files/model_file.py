"""A model file (.npz): written in one piece, and read with every array checked before it is
trusted or allocated: never unpickled, shapes, sizes and values bounded, its run record
checked (run_record.check_record). It holds no network: NN_Numpy.NeuralNetwork builds one.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from files.errors import InputError, ModelError
from files.outputs import atomic_write
from files.run_record import RETRAIN, check_record


def write_model(path: str | Path, layer_sizes: list[int], layers: list, record: dict) -> None:
    """Save what read_model reads, in one .npz: the layer sizes, each layer's (weights, bias),
    and the run record as JSON text, so that a model and its record can never disagree."""
    arrays = {"layer_sizes": np.array(layer_sizes), "record": json.dumps(record)}
    for i, (weights, bias) in enumerate(layers):
        arrays[f"weights_{i}"] = weights
        arrays[f"bias_{i}"] = bias
    with atomic_write(path) as f:  # the old file is replaced only once the new one is whole
        np.savez(f, **arrays)


FLOAT32_MAX = float(np.finfo(np.float32).max)  # models train and run in float32


def read_model(path: Path, dtype, max_parameters: int):
    """(layer sizes, [(weights, bias) per layer], run record) from a model saved by
    NeuralNetwork.save, checked before anything a hostile file asks for is allocated.

    Never unpickles (allow_pickle=False); an .npz reads an array only when asked, and each
    member's header is read first and must agree with its size in the zip directory, so
    neither a bloated array nor a header claiming gigabytes is ever allocated. Weights must be
    floats of the right shapes, finite in float32 whatever `dtype` they are read in, and small
    enough that no pixels in [0, 1] can give an infinite logit (see output_bounds). The run
    record is checked against what run_training writes (see check_record).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no model file at {path}; train one first: python src/NN_Numpy.py")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path} is not a model saved by NN_Numpy.py (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            sizes, layers, text = check_model(data, np.dtype(dtype), max_parameters)
        return sizes, layers, check_record(text, sizes, path)
    except ModelError as problem:
        raise InputError(f"{path} is not a valid model file: {problem}") from None
    except Exception as problem:  # zip, pickle refusal, truncation: all mean "not our file"
        raise InputError(f"{path} is not a model saved by NN_Numpy.py ({problem})") from None


def layer_sizes_problem(sizes: list[int], max_parameters: int) -> str | None:
    """What makes these layer sizes no network we build (fewer than two, one below 1, more than
    max_parameters weights and biases), or None. NeuralNetwork() and check_model ask."""
    if len(sizes) < 2 or min(sizes) < 1:
        return f"layer sizes must be at least two numbers >= 1, got {sizes}"
    n_parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if n_parameters > max_parameters:
        return f"layer sizes {sizes}: over {max_parameters:,} parameters"
    return None


def check_model(data, dtype: np.dtype, max_parameters: int):
    """(sizes, [(weights, bias)], record text) of an open .npz, or ModelError."""
    bytes_of = {i.filename.removesuffix(".npy"): i.file_size for i in data.zip.infolist()}
    if bytes_of.get("layer_sizes", 0) > 10_000 or bytes_of.get("record", 0) > 10**7:
        raise ModelError("its layer_sizes or record is far larger than a model's")
    member_header(data, "layer_sizes")
    sizes = data["layer_sizes"]
    if sizes.dtype.kind not in "iu" or sizes.ndim != 1 or len(sizes) < 2:
        raise ModelError(f"layer_sizes is {sizes.dtype} {sizes.shape}")
    sizes = [int(n) for n in sizes]
    names = [f"{k}_{i}" for i in range(len(sizes) - 1) for k in ("weights", "bias")]
    if sorted(data.files) != sorted(["layer_sizes", "record", *names]):
        raise ModelError(f"expected {names} and record, found {data.files}")
    problem = layer_sizes_problem(sizes, max_parameters)
    if problem:
        raise ModelError(problem)
    shapes = [
        shape for n_in, n_out in zip(sizes[:-1], sizes[1:]) for shape in ((n_in, n_out), (n_out,))
    ]
    arrays = []
    for name, shape in zip(names, shapes):
        if bytes_of[name] > 1024 + 8 * int(np.prod(shape)):  # read none of a bloated array
            raise ModelError(f"{name} is larger than its {shape} floats")
        declared, kind = member_header(data, name)
        if declared != shape or kind.kind != "f":
            raise ModelError(f"{name} is {kind} {declared}, not {shape} floats")
        array = data[name]
        with np.errstate(over="ignore"):  # 1e300 is finite in float64, inf in float32
            finite = np.isfinite(array.astype(np.float32)).all()
        if not finite:  # every command refuses it, whatever dtype it reads the model in
            raise ModelError(f"{name} holds NaN or infinite values (in float32)")
        arrays.append(array.astype(dtype))
    layers = list(zip(arrays[::2], arrays[1::2]))
    for layer, bound in enumerate(output_bounds(layers), 1):
        if not bound <= FLOAT32_MAX / 2:  # half: room for rounding, and for max - min
            raise ModelError(
                f"its weights are too large: layer {layer} can output values up to {bound:.1e} "
                f"for pixels in [0, 1], beyond float32's {FLOAT32_MAX:.1e}, so its logits "
                f"can be infinite; {RETRAIN}"
            )
    member_header(data, "record")
    record = data["record"]
    return sizes, layers, str(record) if record.dtype.kind == "U" and record.ndim == 0 else None


def member_header(data, name: str) -> tuple[tuple, np.dtype]:
    """The shape and dtype that member name.npy declares, read from its header alone. Its
    size in the zip directory must be exactly the header plus shape * itemsize bytes, as
    np.save writes it: a header claiming gigabytes is refused before np.load allocates them."""
    info = data.zip.getinfo(f"{name}.npy")
    with data.zip.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ModelError(f"{name} has a .npy header of version {version}, not 1.0 or 2.0")
        read_header = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
        shape, _, dtype = read_header(f)
        header_size = f.tell()
    if dtype.hasobject:  # pickled objects: np.load refuses them (allow_pickle=False)
        return shape, dtype
    size = header_size + int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size != info.file_size:
        raise ModelError(
            f"{name}'s header says {dtype} {shape} ({size:,} bytes) but it holds "
            f"{info.file_size:,} bytes"
        )
    return shape, dtype


def output_bounds(layers: list) -> list[float]:
    """The largest |value| each layer can output for any input in [0, 1]: |x @ W + b| <=
    max over columns of sum |W| * max |x| + max |b|; relu never grows a value, and a sigmoid
    gives at most 1, so a layer's input is at most the larger of 1 and the bound before.
    Above float32's range, a forward pass can give inf, then NaN probabilities."""
    bound, bounds = 1.0, []  # pixels in [0, 1]
    for weights, bias in layers:  # (n_in, n_out), (n_out,)
        column_sums = np.abs(weights).sum(axis=0, dtype=np.float64)  # (n_out,)
        bound = float(column_sums.max() * max(bound, 1.0) + np.abs(bias).max(initial=0))
        bounds.append(bound)
    return bounds
