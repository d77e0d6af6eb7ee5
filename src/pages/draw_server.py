"""Draw a digit in your browser: the page in src/pages/draw/ and its HTTP API, on the hardened
server of page_server.py (a bounded worker pool, a deadline per request, JSON errors).

    python src/use_network.py draw         # serve(): prints the page's URL, Ctrl-C stops

GET /, /draw.js, /draw.css   the page (HEAD too); any other path: 404.
POST /predict                body: an image file's bytes (PNG, JPEG, GIF, BMP, TIFF, WebP,
                             PNM), sent as they are, with a Content-Length header:
    curl --data-binary @my_digit.png http://127.0.0.1:8000/predict
200 OK, JSON:
    digit          int 0-9, or null when there is no digit or the network is not sure
    answer         the text the page shows: "7", "not sure (best guess 7, 41%)", "no digit"
    best_guess     int 0-9, the most probable digit (null when there is no digit)
    confidence     float, its probability (0.0 when there is no digit)
    probabilities  10 floats summing to 1 (null when there is no digit)
    image          784 floats in [0, 1]: the 28x28 image the network saw, row by row
    saliency       784 floats: d(logit of best_guess) / d(pixel) (null when no digit)
    hidden         one list of ReLU activations per hidden layer (null when no digit)
Errors are JSON too, {"error": "..."}, and the server goes on serving: 400 empty body, bad
Content-Length, not an image or unreadable; 403 a Host or Origin naming another site; 404
other paths; 405 wrong method; 408 a request not all arrived within 10 s; 411 no
Content-Length; 413 a body over 2 MB (refused from its header) or an image over 4 megapixels
(refused before decoding); 503 more clients at once than the server takes.

Pillow is imported inside answer_image: it is slow to load, and only a request needs it.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import warnings
import webbrowser
from http import HTTPStatus
from pathlib import Path

import numpy as np

import NN_Numpy as nn
from files.errors import InputError
from pages import page_server
from pages.page_server import RequestError
from using.digit_model import not_a_digit_threshold_of, verdict
from using.math_checks import input_gradient
from using.photos import preprocess_image

DRAW_MAX_PIXELS = 4_000_000  # a canvas is 0.08 Mpx; photos go through predict
DRAW_FORMATS = ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM"]  # Pillow's names


def answer_image(network: nn.NeuralNetwork, threshold: float, body: bytes) -> dict:
    """Image bytes -> the JSON-ready answer of POST /predict."""
    from PIL import Image

    try:  # a network endpoint decodes only the usual formats, and small images
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=DRAW_FORMATS) as image:
                size = f"{image.width}x{image.height}"  # from the header: nothing decoded yet
                pixels = image.width * image.height
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        size, pixels = "too many", float("inf")
    except Exception:  # noqa: BLE001 (whatever Pillow raises, it is not an image we take)
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "not an image (expected PNG, JPEG, GIF, BMP, TIFF, WebP or PNM)"
        ) from None
    if pixels > DRAW_MAX_PIXELS:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"image of {size} pixels; at most {DRAW_MAX_PIXELS:,} are accepted",
        )
    try:
        image = preprocess_image(body)
    except InputError as error:
        raise RequestError(HTTPStatus.BAD_REQUEST, str(error)) from None
    if image is None:
        return {
            "digit": None,
            "answer": "no digit",
            "best_guess": None,
            "confidence": 0.0,
            "probabilities": None,
            "image": [0.0] * nn.N_PIXELS,
            "saliency": None,
            "hidden": None,
        }
    x = image[np.newaxis].astype(network.dtype)  # (1, 784)
    probs = nn.softmax(network.forward(x))[0]  # (10,)
    hidden = [layer.output[0].tolist() for layer in network.layers[:-1]]  # kept by forward
    # "not a digit" by the model's own threshold, unless the page's --threshold is lower still
    not_a_digit = min(threshold, not_a_digit_threshold_of(network))
    digit, answer = verdict(probs, threshold, not_a_digit)
    best = int(np.argmax(probs))
    saliency = input_gradient(network, x, best)
    return {
        "digit": digit,
        "answer": answer,
        "best_guess": best,
        "confidence": float(probs[best]),
        "probabilities": probs.tolist(),
        "image": image.tolist(),
        "saliency": saliency.tolist(),
        "hidden": hidden,
    }


class DrawHandler(page_server.PageHandler):
    """The page's three files and POST /predict."""

    server: DrawServer
    page_dir = Path(__file__).resolve().parent / "draw"
    pages = {
        "/": ("index.html", page_server.HTML),
        "/draw.js": ("draw.js", page_server.JAVASCRIPT),
        "/draw.css": ("draw.css", page_server.CSS),
    }
    routes = {("POST", "/predict"): "predict"}
    max_body_bytes = 2 * 1024 * 1024  # a 280x280 canvas PNG is 5-20 kB
    empty_body_message = "empty body: send an image file"
    server_version = "draw_server"

    def predict(self, body: bytes) -> dict:
        # The layers keep each forward pass's arrays for the backward pass, so two requests
        # must not run the network at the same time.
        with self.server.network_lock:
            return answer_image(self.server.network, self.server.threshold, body)


class DrawServer(page_server.PageServer):
    """The page server, holding the network and its "not sure" threshold."""

    def __init__(
        self,
        address: tuple[str, int],
        network: nn.NeuralNetwork,
        threshold: float,
        **limits,
    ) -> None:
        super().__init__(address, DrawHandler, **limits)  # page_server.PageServer's limits
        self.network, self.threshold = network, threshold
        self.network_lock = threading.Lock()


def make_server(
    network: nn.NeuralNetwork,
    threshold: float,
    host: str = "127.0.0.1",
    port: int = 8000,
    **limits,
) -> DrawServer:
    """A server bound to (host, port), not yet serving: call serve_forever(). Port 0 picks a
    free port; server.server_address tells which. limits: request_timeout, max_connections,
    max_waiting, max_arriving, max_held_bytes (page_server.PageServer)."""
    return DrawServer((host, port), network, threshold, **limits)


def open_browser(url: str) -> None:
    """Open the page in a browser if there is one with a screen; never fails."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return  # no screen: webbrowser would start a text browser in this terminal
    with contextlib.suppress(Exception):  # a browser that fails is no reason to stop serving
        webbrowser.open(url)


def bound(make, host: str, port: int):
    """(server, its URL) from make(), which binds host:port; an InputError in one line if the
    port is taken or cannot be used. The drawing page's and the training page's."""
    try:
        server = make()
    except OSError as error:  # e.g. the port is taken
        raise InputError(
            f"cannot serve on {host}:{port}: {error.strerror}; try another --port"
        ) from None
    return server, f"http://{host}:{server.server_address[1]}/"


def serve(
    network: nn.NeuralNetwork,
    threshold: float,
    host: str = "127.0.0.1",
    port: int = 8000,
    browser: bool = True,
) -> int:
    """Serve until Ctrl-C; the first line printed is the page's URL. Returns exit status 0;
    an InputError if the port is taken or cannot be used."""
    httpd, url = bound(lambda: make_server(network, threshold, host, port), host, port)
    with httpd:
        print(url, flush=True)
        print("Draw a digit there; Ctrl-C stops the server.", flush=True)
        if browser:
            open_browser(url)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            print("\nstopped", flush=True)
    return 0
