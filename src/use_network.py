"""What you do with a trained network: the command line, one short function per command.
The work is in the module named on the right.

    python src/use_network.py predict my_digit.jpg   # your own handwriting     photos.py
    python src/use_network.py draw                   # draw one in a browser    draw_server.py
    python src/use_network.py submit                 # Kaggle submission        submission.py
    python src/use_network.py report                 # figures and run record   figures.py
    python src/use_network.py gradcheck              # backprop vs differences  math_checks.py
    python src/use_network.py explain                # one step's multiplies    math_checks.py
    python src/use_network.py watch                  # train, live in a browser watch_training.py
    python src/use_network.py compare LESSON         # variants side by side    compare_server.py

The network itself, and how it learns, is in NN_Numpy.py: train it first with
`python src/NN_Numpy.py`. The imports run one way: those modules import NN_Numpy (and each
other, never in a circle); NN_Numpy imports none of them; nothing imports this file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import NN_Numpy as nn
from files import paths
from learning import command_line
from pages import compare_server, draw_server, watch_training
from using import figures, math_checks, photos, submission
from using.digit_model import load_digit_model, load_model, threshold_of


def predict_command(args: argparse.Namespace) -> int:
    network = load_digit_model(args.model, "predict")
    return photos.predict_photos(
        network, args.model, args.images, args.tta, args.save_preprocessed, args.explain
    )


def draw_command(args: argparse.Namespace) -> int:
    network = load_digit_model(args.model, "the drawing page")
    threshold = threshold_of(network) if args.threshold is None else args.threshold
    return draw_server.serve(network, threshold, args.host, args.port, not args.no_browser)


def submit_command(args: argparse.Namespace) -> int:
    submission.write_submission(args.model, args.test, args.out, args.tta)
    return 0


def report_command(args: argparse.Namespace) -> int:
    figures.report(args.model, args.figures_dir)
    return 0


def gradcheck_command(args: argparse.Namespace) -> int:
    if args.model:
        network = load_model(args.model, dtype=np.float64)
    else:
        network = nn.NeuralNetwork(seed=args.seed, dtype=np.float64)
    x, labels = math_checks.random_batch(args.data_dir, args.batch_size, args.seed, np.float64)
    weights = f"weights of {args.model}" if args.model else "initial weights"
    passed = math_checks.print_gradient_check(network, x, labels, weights, args.entries, args.seed)
    return 0 if passed else 1


def explain_command(args: argparse.Namespace) -> int:
    x, labels = math_checks.random_batch(args.data_dir, args.batch_size, args.seed)
    print("\n".join(math_checks.explain_step(nn.NeuralNetwork(seed=args.seed), x, labels)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.ArgumentDefaultsHelpFormatter
    parser = argparse.ArgumentParser(
        prog="use_network.py",
        formatter_class=formatter,
        description="Use a network trained by python src/NN_Numpy.py: read your own digits, "
        "draw one in your browser, write a Kaggle submission, draw a report, check and explain "
        "the math.",
    )
    commands = parser.add_subparsers(dest="command", title="commands", required=True)

    def command(name: str, help: str, description: str, model=paths.MODEL_PATH):
        sub = commands.add_parser(
            name, formatter_class=formatter, help=help, description=description
        )
        sub.add_argument("--model", type=Path, default=model, help="trained model (.npz)")
        return sub

    predict = command(
        "predict",
        "read your own images of digits",
        "Classify image files "
        "(PNG, JPEG, ...) of single handwritten digits; say 'not sure' or 'no digit' "
        "when the network cannot tell.",
    )
    predict.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="one digit each")
    add = predict.add_argument
    add(
        "--save-preprocessed",
        type=Path,
        metavar="DIR",
        help="also write the 28x28 image the network saw, as DIR/<name>-<hash>.28x28.png",
    )
    add(
        "--explain",
        type=Path,
        metavar="DIR",
        help="also draw, per image, what the network saw, "
        "the pixels behind its answer and the probabilities, as DIR/<name>-<hash>.why.png",
    )
    draw = command(
        "draw",
        "draw a digit in your browser",
        "Draw a digit in your browser and watch the network read it: serves "
        "a page on this computer and prints its address.",
    )
    add = draw.add_argument
    add("--port", type=int, default=8000, help="port (0: any free one)")
    add("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this computer only)")
    add(
        "--threshold",
        type=float,
        help="'not sure' below this top probability; None: the model's own, set on its "
        "validation rows",
    )
    add("--no-browser", action="store_true", help="do not open a browser")
    submit = command(
        "submit",
        "write a Kaggle submission for test.csv",
        "Predict every row of Kaggle's test.csv and write ImageId,Label.",
    )
    submit.add_argument("--test", type=Path, help="test CSV; None: data/raw/ or the bundled one")
    submit.add_argument(
        "--out", type=Path, default=submission.SUBMISSION_PATH, help="the submission CSV"
    )
    for sub in (predict, submit):
        sub.add_argument("--tta", action="store_true", help="average over 5 one-pixel moves")
    report = command(
        "report",
        "the run record and every figure of a trained model",
        "Print the run record saved in the model and draw every figure on its validation split.",
    )
    report.add_argument(
        "--figures-dir", type=Path, default=paths.FIGURES_DIR, help="figures folder"
    )
    gradcheck = command(
        "gradcheck",
        "check backpropagation against finite differences",
        "Check backpropagation against finite differences: every "
        "parameter array's gradient, in float64, on real images.",
        model=None,
    )
    gradcheck.add_argument("--batch-size", type=int, default=8, help="images in the batch")
    gradcheck.add_argument("--entries", type=int, default=30, help="entries checked per array")
    explain = commands.add_parser(
        "explain",
        formatter_class=formatter,
        help="print every matrix multiply of one training step",
        description="Run one forward and backward pass on a real batch "
        "and print each layer's shapes and matrix multiplies.",
    )
    explain.add_argument("--batch-size", type=int, default=128, help="images in the batch")
    for sub in (gradcheck, explain):
        sub.add_argument("--seed", type=int, default=0, help="picks the images and the weights")
        sub.add_argument("--data-dir", type=Path, help="folder with train.csv[.gz]")
    commands.add_parser(
        "watch",
        add_help=False,  # its options are NN_Numpy.py's own: use_network.py watch --help
        help="train as NN_Numpy.py does (the same options) and watch it learn in your browser",
    )
    commands.add_parser(
        "compare",
        add_help=False,  # its options are its own and NN_Numpy.py's: use_network.py compare --help
        help="train two or more variants at once and compare them in your browser (ready "
        "lessons: use_network.py compare --help)",
    )
    return parser


def option_problem(args: argparse.Namespace) -> str | None:
    """The first option out of its range, as the trainer says it, or None: checked before
    any command runs."""
    checks = {
        "port": (lambda v: 0 <= v <= 65535, "must be 0-65535"),
        "threshold": (lambda v: v is None or 0 <= v <= 1, "must be 0-1"),
        "entries": (lambda v: v >= 1, "must be >= 1"),
        "batch_size": (lambda v: 1 <= v <= 10_000, "must be 1-10000"),
        "seed": (lambda v: 0 <= v < 2**32, "must be 0 to 2**32 - 1"),
    }
    for name, (ok, rule) in checks.items():
        if hasattr(args, name) and not ok(getattr(args, name)):  # NaN fails every comparison
            return f"--{name.replace('_', '-')} {rule}, got {getattr(args, name)}"
    return None


COMMANDS = {
    "predict": predict_command,
    "draw": draw_command,
    "submit": submit_command,
    "report": report_command,
    "gradcheck": gradcheck_command,
    "explain": explain_command,
}


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if list(argv[:1]) == ["watch"]:  # NN_Numpy's parser reads the training's options
        return watch_training.main(list(argv[1:]))
    if list(argv[:1]) == ["compare"]:  # its own parser, and NN_Numpy's for each variant
        return compare_server.main(list(argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    if problem := option_problem(args):
        parser.error(problem)  # exits with status 2, after the usage line
    return command_line.report_errors(lambda: COMMANDS[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
