"""NN_Numpy.py's command line (one option per training setting, then where to read and
write), the outputs it will write, checked before any work, and report_errors: an error a user
can cause is one line and exit status 1, never a traceback. It holds no training code.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from files.errors import InputError
from files.outputs import check_outputs
from files.paths import BUNDLED_DATA_DIR, FIGURES_DIR, KAGGLE_DATA_DIR, MODEL_PATH, data_files


def build_parser(settings) -> argparse.ArgumentParser:
    """NN_Numpy.py's command line: one option per training setting (dataclasses.fields of
    TrainConfig: --batch-size for batch_size, its default, its metadata's help and choices),
    then where to read and write."""
    parser = argparse.ArgumentParser(
        prog="NN_Numpy.py",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Train a fully connected network, written in NumPy, on Kaggle's Digit "
        "Recognizer (MNIST) data; evaluate it, save it and plot sample predictions. "
        "To use the trained model: python src/use_network.py --help",
    )
    for setting in settings:
        names = ["--" + setting.name.replace("_", "-")]
        if setting.name == "learning_rate":
            names.append("--lr")
        default = setting.default
        options = {"dest": setting.name, "default": default, "help": setting.metadata["help"]}
        if isinstance(default, bool):  # --train-on-all: on when given
            options["action"] = "store_true"
        elif isinstance(default, tuple):  # --hidden 128 64
            options["nargs"] = "+"
            options["type"] = int
        elif default is None:  # --limit N
            options["type"] = int
        else:
            options["type"] = type(default)
        if setting.metadata.get("choices"):
            options["choices"] = setting.metadata["choices"]
        parser.add_argument(*names, **options)
    add = parser.add_argument
    add("--data-dir", type=Path, help="Kaggle CSVs or IDX; None: data/raw/ or the bundled copy")
    add("--classes", help="class names: digits, fashion or a file of 10; None: from the data")
    add("--model", type=Path, default=MODEL_PATH, help="where to save the model and its record")
    add("--figures-dir", type=Path, default=FIGURES_DIR, help="where to save the figures")
    add("--no-plots", action="store_true", help="skip the figures")
    return parser


def check_run_outputs(args) -> dict[str, Path]:
    """The figures a training run will write ({"predictions": path, "training_curves": path});
    before any work, its outputs (args.model, and the figures unless args.no_plots) are checked
    against every file it may read (check_outputs): the data files, and a --classes file."""
    if args.data_dir:
        folders = [args.data_dir]
    else:
        folders = [KAGGLE_DATA_DIR, BUNDLED_DATA_DIR]
    figures = {
        "predictions": args.figures_dir / "predictions.png",
        "training_curves": args.figures_dir / "training_curves.png",
    }
    outputs = [args.model]
    if not args.no_plots:
        outputs += list(figures.values())
    inputs = data_files(folders)
    if args.classes not in (None, "digits", "fashion"):  # a file of names (class_names)
        inputs.append(Path(args.classes))
    check_outputs(outputs, inputs)
    return figures


def interrupt(signum, frame):
    """Ctrl-C's or SIGTERM's handler: KeyboardInterrupt, raised here in Python. Python's own
    handler (signal.default_int_handler) raises it from C, in a form that pandas' CSV parser
    loses when it comes during a read: it says "Calling read(nbytes) on source failed"
    instead, and the data file was then taken for a bad one (exit 1, after reading it again
    for 12 s); raised here, pandas passes it on."""
    raise KeyboardInterrupt


def report_errors(command: Callable[[], int]) -> int:
    """Run a command: an error a user can cause is one line on stderr and exit status 1; Ctrl-C
    or SIGTERM exit 130. Files are only replaced whole (atomic_write): a failed run damages none.
    The main() of NN_Numpy.py and of use_network.py run their work through it."""

    before = {}  # the handlers it replaces, put back at the end
    with contextlib.suppress(ValueError):  # signals can only be set in the main thread
        before[signal.SIGTERM] = signal.signal(signal.SIGTERM, interrupt)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not if ignored
            before[signal.SIGINT] = signal.signal(signal.SIGINT, interrupt)
    try:
        return command()
    except InputError as error:  # one line, whatever a file name holds
        print(f"error: {error}".replace("\n", "\\n"), file=sys.stderr)
    except OSError as error:  # e.g. a disk that fills up; nothing half-written is left behind
        print(f"error: {error.strerror or error} ({error.filename})", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was saved from the unfinished step", file=sys.stderr)
        return 130
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
    return 1
