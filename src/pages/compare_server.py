"""Experiments side by side: `python src/use_network.py compare`, its page and its API.

    python src/use_network.py compare relu-vs-sigmoid              # a ready lesson
    python src/use_network.py compare relu-vs-sigmoid --epochs 20  # options for every variant
    python src/use_network.py compare --variant "" --variant "--momentum 0"   # your own

The variants train at once, one process each (using/experiments.py, which also holds the
ready lessons); this process serves the page on page_server's hardened server and prints
every variant's lines after its name. At the end each variant's model is read back and scored
on its validation rows and on the handwriting set by other writers; the page stays up until
Ctrl-C (with --no-page: no page, the results printed, and done).

The page's API (GET only; JSON unless said):
GET /state              the comparison: every variant's status, epoch, history (loss,
                        val_loss, val_accuracy per epoch), gradient size per layer per epoch,
                        its error line if it failed, and the results at the end
GET /weights?variant=N  variant N's first-layer weights now, one byte each, unit after unit
                        (128 = 0; headers X-Units, X-Scale: 255 stands for +scale, X-Snapshot)
GET /maps?variant=N     variant N's points maps now: {"epoch", "layers": {name: [[x, y]...]},
                        "labels", "predicted", "probability"} (each digit's true label, the
                        variant's answer and how sure it is); 503 before its first map
GET /maps/images?variant=N  its map's digits, 784 bytes each (0-255), in the order of the
                        points (as the watch page's GET /points/images); 503 before its map
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import threading
from http import HTTPStatus
from pathlib import Path

from files import paths
from learning import command_line
from pages import draw_server, page_server
from pages.page_server import RequestError
from pages.watch_training import first_layer_bytes
from using import experiments

VARIANT_QUERY = re.compile(r"variant=([0-9])")


class CompareHandler(page_server.PageHandler):
    server: CompareServer
    page_dir = (
        Path(__file__).resolve().parent
    )  # src/pages: the page in compare/, its style in draw/, the map's digits in watch/
    pages = {
        "/": ("compare/index.html", page_server.HTML),
        "/digits.js": ("watch/digits.js", page_server.JAVASCRIPT),
        "/compare.js": ("compare/compare.js", page_server.JAVASCRIPT),
        "/compare.css": ("compare/compare.css", page_server.CSS),
        "/draw.css": ("draw/draw.css", page_server.CSS),
    }
    routes = {  # /weights and /maps... are answered by do_GET; listed for 405's Allow
        ("GET", "/state"): "state",
        ("GET", "/weights"): "weights",
        ("GET", "/maps"): "maps",
        ("GET", "/maps/images"): "map_images",
    }
    server_version = "compare_server"

    log_error = page_server.PageHandler.log_message  # errors show, in http.server's form

    def log_message(self, format, *args) -> None:
        """Quiet: a line per poll would drown the variants' own lines."""

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path not in ("/weights", "/maps", "/maps/images"):
            super().do_GET()
            return
        try:
            index = self.variant_index(query)
            if path == "/weights":
                self.send_weights(index)
            elif path == "/maps/images":
                self.send_map_images(index)
            else:
                self.send_json(HTTPStatus.OK, self.map_of(index))
        except RequestError as error:
            self.send_error(error.status, str(error))

    def variant_index(self, query: str) -> int:
        match = VARIANT_QUERY.fullmatch(query)
        count = len(self.server.comparison.variants)
        if not match or int(match[1]) >= count:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"use ?variant=N, N from 0 to {count - 1}")
        return int(match[1])

    def state(self) -> dict:
        return self.server.comparison.state()

    def send_weights(self, index: int) -> None:
        latest = self.server.comparison.latest_weights(index)
        if latest is None:
            raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, "this variant has not started")
        snapshot, weights = latest
        body, scale = first_layer_bytes(weights)
        headers = {
            "X-Snapshot": str(snapshot),
            "X-Scale": f"{scale:.6g}",
            "X-Units": str(weights.shape[1]),
        }
        self.send_body(HTTPStatus.OK, "application/octet-stream", body, headers)

    def map_of(self, index: int) -> dict:
        maps = self.server.comparison.latest_maps(index)
        if maps is None:
            raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, "this variant has no map yet")
        layers = {name: xy.round(3).tolist() for name, xy in maps["layers"].items()}
        return {
            "epoch": maps["epoch"],
            "layers": layers,
            "labels": maps["labels"].tolist(),
            "predicted": maps["predicted"].tolist(),
            "probability": maps["probability"].astype(float).round(3).tolist(),
        }

    def send_map_images(self, index: int) -> None:
        images = self.server.comparison.latest_map_images(index)
        if images is None:
            raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, "this variant has no map yet")
        self.send_body(HTTPStatus.OK, "application/octet-stream", images)

    def weights(self) -> dict:  # never called: do_GET answers /weights
        raise RequestError(HTTPStatus.BAD_REQUEST, "use ?variant=N")

    maps = map_images = weights


class CompareServer(page_server.PageServer):
    """The page server, holding the comparison's state (experiments.Comparison)."""

    def __init__(self, address, comparison: experiments.Comparison, **limits) -> None:
        super().__init__(address, CompareHandler, **limits)
        self.comparison = comparison


# --- The command: python src/use_network.py compare LESSON | --variant "OPTIONS" ... -----------


def lessons_text() -> str:
    lines = [f"ready lessons (each {experiments.LESSON_EPOCHS} epochs unless you give --epochs):"]
    for name, lesson in experiments.LESSONS.items():
        variants = ", ".join(
            f"{label} ({' '.join(options) or 'the defaults'})"
            for label, options in lesson.variants.items()
        )
        lines += [f"  {name}: {lesson.title}: {variants}", f"    look for: {lesson.look_for}"]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="use_network.py compare",
        allow_abbrev=False,  # an option of NN_Numpy.py is never taken for one of these
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage='%(prog)s LESSON | --variant "OPTIONS" --variant "OPTIONS" ... '
        "[options of NN_Numpy.py for every variant] [--port N] [--no-browser] [--no-page]",
        description="Train two or more variants of the network at once, one per core, on "
        "the same data, batches and seed, and see them side by side in your browser: the "
        "curves, the first-layer weights, the gradients, the points maps, and at the end the "
        "accuracy on the validation rows and on handwriting by other writers. A variant is a "
        "set of NN_Numpy.py's options (python src/NN_Numpy.py --help); any of them given here, "
        "outside --variant, applies to every variant. Each variant's model and run record are "
        "saved as models/compare-<lesson>-<letter>-<label>.npz: report and predict read them.",
        epilog=lessons_text(),
    )
    add = parser.add_argument
    add(
        "--variant", metavar='"OPTIONS"', help="a variant: NN_Numpy.py's options, quoted ('': none)"
    )
    add("--models-dir", type=Path, default=paths.MODEL_PATH.parent, help="where the models go")
    default_set = next(filter(Path.is_dir, experiments.HANDWRITING_SETS), None)
    add("--handwriting", type=Path, default=default_set, help="a handwriting set (labels.csv)")
    add("--port", type=int, default=8000, help="the page's port (0: any free one)")
    add("--no-browser", action="store_true", help="do not open a browser")
    add("--no-page", action="store_true", help="no page: train, print the results, exit")
    return parser


def split_variants(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the --variant values, the other arguments): a value is taken whole, even one that
    starts with "--" (argparse would take "--deskew" for an option of its own)."""
    values, rest, i = [], [], 0
    while i < len(argv):
        if argv[i] == "--variant":
            if i + 1 == len(argv):
                raise experiments.VariantError('--variant needs its options: --variant "--lr 3"')
            values.append(argv[i + 1])
            i += 2
            continue
        if argv[i].startswith("--variant="):
            values.append(argv[i].removeprefix("--variant="))
        else:
            rest.append(argv[i])
        i += 1
    return values, rest


def plan_comparison(argv: list[str], parser: argparse.ArgumentParser):
    """(args, experiment name, lesson or None, variants), or a VariantError."""
    lesson_name = None
    if argv and not argv[0].startswith("-"):
        lesson_name, argv = argv[0], argv[1:]
    values, rest = split_variants(argv)
    args, common = parser.parse_known_args(rest)
    if lesson_name is not None and values:
        raise experiments.VariantError("give a lesson or --variant options, not both")
    if lesson_name is not None:
        lesson = experiments.LESSONS.get(lesson_name)
        if lesson is None:
            known = ", ".join(experiments.LESSONS)
            raise experiments.VariantError(f"no lesson {lesson_name!r}; the lessons: {known}")
        variants = lesson.variants
        common = experiments.lesson_options(common)
        name = lesson_name
    else:
        lesson, variants, name = None, experiments.custom_variants(values), "custom"
    if args.port is not None and not 0 <= args.port <= 65535:
        raise experiments.VariantError(f"--port must be 0-65535, got {args.port}")
    planned = experiments.plan(name, variants, common, args.models_dir)
    return args, name, lesson, planned


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args, name, lesson, variants = plan_comparison(list(argv), parser)
    except experiments.VariantError as error:
        print(f"use_network.py compare: error: {error}".replace("\n", "\\n"), file=sys.stderr)
        return 2
    return command_line.report_errors(lambda: compare(args, name, lesson, variants))


def compare(args, name: str, lesson, variants: list[experiments.Variant]) -> int:
    """Read the handwriting set, serve the page (unless --no-page), train the variants, score
    them, print the results; then keep the page up until Ctrl-C."""
    handwriting = experiments.handwriting_set(args.handwriting)  # a broken one: before any work
    title = lesson.title if lesson else " vs ".join(v.options_text for v in variants)
    look_for = lesson.look_for if lesson else "what the one thing you changed does"
    comparison = experiments.Comparison(name, title, look_for, variants)
    if handwriting is None:
        where = args.handwriting or "../shared/data/handwriting_dev"
        comparison.handwriting = f"no handwriting set at {where}: not scored on handwriting"
    else:
        comparison.handwriting = (
            f"{len(handwriting[1])} digits by other writers ({args.handwriting})"
        )
    if args.no_page:
        return train_and_score(comparison, variants, handwriting)
    host = "127.0.0.1"
    make = lambda: CompareServer((host, args.port), comparison)  # noqa: E731
    server, url = draw_server.bound(make, host, args.port)
    with server:
        print(url, flush=True)
        print(f"Compare them there: {title}. Ctrl-C stops.", flush=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        if not args.no_browser:
            draw_server.open_browser(url)
        try:  # Ctrl-C while they train: they stop too, and nothing half-written is kept
            status = train_and_score(comparison, variants, handwriting)
            print(f"The page stays up at {url} until Ctrl-C.", flush=True)
            with contextlib.suppress(KeyboardInterrupt):  # now the way to leave: nothing to lose
                threading.Event().wait()
            return status
        finally:
            server.shutdown()


def train_and_score(comparison, variants, handwriting) -> int:
    """Train every variant, score those that trained, print the results: 0 if any trained."""
    print(f"Comparing {len(variants)} variants, one process each:", flush=True)
    for variant in variants:
        print(f"  {variant.name}: {variant.options_text}", flush=True)
    statuses = experiments.run(variants, comparison.receive)
    results = experiments.evaluate(variants, statuses, handwriting)
    comparison.finish(results)
    print(f"Results ({comparison.handwriting}):")
    for result, variant in zip(results, comparison.state()["variants"]):
        if result["failed"]:
            print(f"  {result['variant']}: failed: {variant['error'] or 'see above'}")
            continue
        line = f"  {result['variant']}: "
        if "validation_accuracy" in result:
            line += f"validation {100 * result['validation_accuracy']:.2f}%"
        if "handwriting_accuracy" in result:
            line += f", handwriting {100 * result['handwriting_accuracy']:.1f}%"
        print(f"{line}; saved to {result['model']}", flush=True)
    return 0 if 0 in statuses else 1
