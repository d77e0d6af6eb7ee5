"""src/pages/draw_server.py and src/pages/draw/: the drawing page and its HTTP API."""

import io
import json
import math
import re
import socket
import struct
import threading
import time
import zlib

import numpy as np
import pytest
from conftest import ROOT, StalledFlood, canvas_png, request, save_screenshot
from PIL import Image

from pages import draw_server
from using import math_checks, photos

TIMEOUT = 1.0  # the test server's socket timeout, lowered from 10 s for the slow-client tests


@pytest.fixture(scope="module")
def server(trained):
    """The server on a free port, serving from a thread; yields its port."""
    network, threshold, _, _ = trained
    server = draw_server.make_server(network, threshold, port=0, request_timeout=TIMEOUT)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height grey pixels; its data holds a few only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(100)))
        + chunk(b"IEND", b"")
    )


def post_image(port: int, image: bytes):
    status, _, body = request(port, "POST", "/predict", image)
    return status, json.loads(body)


def raw_exchange(port: int, data: bytes) -> tuple[int | None, bytes]:
    """Send raw bytes, read until the server closes; returns (status, body). The status is
    None for a reply in HTTP/0.9 style, the body alone, which http.server gave to a request
    line without a valid HTTP version (before issue #29: now every reply has a status line)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    if not reply.startswith(b"HTTP/"):
        return None, reply
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def assert_json_error(body: bytes) -> None:
    error = json.loads(body)["error"]
    assert isinstance(error, str) and error and "Traceback" not in error


def assert_still_serving(port: int, trained) -> None:
    _, _, images, labels = trained
    status, result = post_image(port, canvas_png(images[0]))
    assert status == 200 and result["best_guess"] == labels[0]


# ---------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------


def test_predict_answers_every_field(server, trained, tmp_path):
    network, threshold, images, labels = trained
    png = canvas_png(images[1])
    status, result = post_image(server, png)
    assert status == 200
    assert set(result) == {
        "digit",
        "answer",
        "best_guess",
        "confidence",
        "probabilities",
        "image",
        "saliency",
        "hidden",
    }
    assert result["best_guess"] == labels[1]
    assert result["digit"] == labels[1] and result["answer"] == str(labels[1])
    assert isinstance(result["confidence"], float) and threshold <= result["confidence"] <= 1
    probs = result["probabilities"]
    assert len(probs) == 10 and all(isinstance(p, float) for p in probs)
    assert sum(probs) == pytest.approx(1, abs=1e-5)
    assert max(probs) == result["confidence"]
    assert len(result["image"]) == 784 and all(0 <= v <= 1 for v in result["image"])
    assert len(result["saliency"]) == 784 and all(math.isfinite(v) for v in result["saliency"])
    assert [len(layer) for layer in result["hidden"]] == [128, 64]
    assert all(v >= 0 for layer in result["hidden"] for v in layer)  # ReLU
    # The image is NN_Numpy's own preprocessing of the file; the saliency its own gradient.
    (tmp_path / "digit.png").write_bytes(png)
    seen = photos.preprocess_image(tmp_path / "digit.png")
    np.testing.assert_allclose(result["image"], seen)
    gradient = math_checks.input_gradient(network, seen[np.newaxis], result["best_guess"])
    np.testing.assert_allclose(result["saliency"], gradient, rtol=1e-5, atol=1e-7)


def test_real_mnist_digits_on_a_canvas_are_recognised(server, trained):
    """Drawn 200 px tall on the page's canvas, as a person would send them: about as many
    right as the network gets of MNIST's own rows (96%)."""
    _, _, images, labels = trained
    right = 0
    for image, label in zip(images[:50], labels[:50], strict=True):
        status, result = post_image(server, canvas_png(image))
        assert status == 200
        right += result["best_guess"] == label
    assert right >= 46


@pytest.mark.parametrize("what", ["blank", "faint"])
def test_blank_canvas_is_no_digit(server, what):
    image = Image.new("L", (280, 280), 255)
    if what == "faint":  # a stroke 5% darker than the paper: under ink_map's 10% contrast
        image.paste(242, (100, 40, 120, 240))
    out = io.BytesIO()
    image.save(out, format="PNG")
    status, result = post_image(server, out.getvalue())
    assert status == 200
    assert result == {
        "digit": None,
        "answer": "no digit",
        "best_guess": None,
        "confidence": 0.0,
        "probabilities": None,
        "image": [0.0] * 784,
        "saliency": None,
        "hidden": None,
    }


def test_not_sure_below_the_threshold(trained):
    network, _, images, labels = trained
    result = draw_server.answer_image(network, math.inf, canvas_png(images[0]))
    assert result["digit"] is None and result["best_guess"] == labels[0]
    assert re.fullmatch(rf"not sure \(best guess {labels[0]}, \d\d?%\)", result["answer"])


def test_other_image_formats_are_read(server, trained):
    _, _, images, labels = trained
    for fmt in ["JPEG", "BMP", "GIF"]:
        out = io.BytesIO()
        Image.fromarray(images[2].reshape(28, 28)).save(out, format=fmt)  # white on black
        status, result = post_image(server, out.getvalue())
        assert status == 200 and result["best_guess"] == labels[2], fmt


@pytest.mark.parametrize(
    "url, content_type, start",
    [
        ("/", "text/html; charset=utf-8", b"<!DOCTYPE html>"),
        ("/draw.js", "text/javascript; charset=utf-8", b"// Draw a digit"),
        ("/draw.css", "text/css; charset=utf-8", b"body {"),
    ],
)
def test_the_page_files(server, url, content_type, start):
    status, headers, body = request(server, "GET", url)
    assert status == 200 and body.startswith(start)
    assert headers["Content-Type"] == content_type
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = request(server, "HEAD", url)
    assert status == 200 and body == b"" and headers["Content-Type"] == content_type


def test_the_page_loads_nothing_from_outside():
    for name in ["index.html", "draw.js", "draw.css"]:
        text = (ROOT / "src" / "pages" / "draw" / name).read_text()
        assert not re.search(r"https?://|//cdn|@import", text), name
    html = (ROOT / "src" / "pages" / "draw" / "index.html").read_text()
    for element_id in ["canvas", "clear", "answer", "bars", "seen", "heatmap", "hidden"]:
        assert f'id="{element_id}"' in html


# ---------------------------------------------------------------------------
# Hostile requests: a 4xx JSON error, and the server goes on serving
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status",
    [
        pytest.param(b"hello, I am not an image", 400, id="text"),
        # the header reads, the pixels don't
        pytest.param(canvas_png()[:100], 400, id="truncated-png"),
        pytest.param(b"", 400, id="empty"),
        pytest.param(png_claiming(3000, 2000), 413, id="6-Mpx"),  # over our cap, under Pillow's
        # 2.5 Gpx: Pillow's own decompression-bomb error
        pytest.param(png_claiming(50000, 50000), 413, id="2.5-Gpx"),
        pytest.param(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", 400, id="eps"),
    ],
)
def test_bad_bodies(server, trained, body, status):
    got, _, reply = request(server, "POST", "/predict", body)
    assert got == status
    assert_json_error(reply)
    assert_still_serving(server, trained)


@pytest.mark.parametrize(
    "headers, status",
    [
        (b"", 411),  # no Content-Length
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: -5\r\n", 400),
        (b"Content-Length: 1e3\r\n", 400),
        (b"Content-Length: 10\r\nContent-Length: 20\r\n", 400),
        (b"Transfer-Encoding: chunked\r\n", 411),
        # Declared over 2 MB, no body sent: refused from the header, without waiting to read it
        (b"Content-Length: 3000000\r\n", 413),
        (b"Content-Length: 99999999999999999999999999999\r\n", 413),
    ],
)
def test_bad_content_lengths(server, trained, headers, status):
    start = time.perf_counter()
    got, reply = raw_exchange(
        server, b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"
    )
    assert got == status and time.perf_counter() - start < TIMEOUT / 2
    assert_json_error(reply)
    assert_still_serving(server, trained)


@pytest.mark.parametrize(
    "path",
    [
        "/../draw_server.py",
        "/%2e%2e/README.md",
        "/..%2f..%2fetc%2fpasswd",
        "//etc/passwd",
        "/etc/passwd",
        "/draw/../draw.js",
        "/draw/draw.js",
        "/index.html",
        "/draw.js%00",
        "/draw.js\x00.png",
        "/DRAW.JS",
        "/draw.js/",
        "/predict/",
        "/favicon.ico",
        "*",
    ],
)
def test_paths_outside_the_whitelist_are_404(server, trained, path):
    status, reply = raw_exchange(server, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status == 404
    assert_json_error(reply)
    assert_still_serving(server, trained)


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("GET", "/predict", "POST"),
        ("PUT", "/predict", "POST"),
        ("DELETE", "/draw.js", "GET, HEAD"),
        ("POST", "/", "GET, HEAD"),
        ("OPTIONS", "/predict", "POST"),
        ("PATCH", "/", "GET, HEAD"),
    ],
)
def test_wrong_methods_are_405(server, trained, method, path, allowed):
    status, headers, body = request(server, method, path)
    assert status == 405 and headers["Allow"] == allowed
    assert_json_error(body)
    assert_still_serving(server, trained)


@pytest.mark.parametrize(
    "line, status",
    [
        (b"GET / / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/one\r\n\r\n", 400),  # issue #29, item 8: these four had no status line
        (b"GARBAGE\r\n\r\n", 400),
        (b"\x00\xff\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\n\r\n", 505),
        (b"GET /\r\n\r\n", 400),  # HTTP/0.9
        (b"BREW /predict HTTP/1.1\r\n\r\n", 501),
    ],
)
def test_malformed_requests_get_json_errors(server, trained, line, status):
    got, reply = raw_exchange(server, line)
    assert got == status
    assert_json_error(reply)
    assert_still_serving(server, trained)


@pytest.mark.parametrize(
    "line, error",
    [
        (b"GARBAGE", "malformed request line 'GARBAGE'; expected: METHOD /path HTTP/1.1"),
        (b"GET /", "malformed request line 'GET /'; expected: METHOD /path HTTP/1.1"),
        (b"GET / HTTP/one", "Bad request version ('HTTP/one')"),
    ],
)
def test_a_malformed_request_line_gets_a_400_status_line_naming_it(server, line, error):
    # Issue #29, item 8: http.server answered these in HTTP/0.9 style, a body alone
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(line + b"\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.0 400 Bad Request"
    assert json.loads(body) == {"error": error}


@pytest.mark.parametrize(
    "line",
    [
        b"X" * 60_000,  # one word
        b"GET /" + b"x" * 60_000 + b" HTTP/one",  # a bad version: http.server quotes the line
        b"B" * 60_000 + b" / HTTP/1.0",  # an unknown method: http.server quotes it
    ],
)
def test_an_error_quotes_at_most_about_100_characters_of_the_request_line(server, line):
    # Issue #29, item 7: error replies echoed what the client sent, whole
    status, reply = raw_exchange(server, line + b"\r\n\r\n")
    assert status in (400, 501) and len(json.loads(reply)["error"]) <= 403


def test_a_client_that_stalls_mid_body_is_dropped_and_others_are_served(server, trained):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n"
            + canvas_png()[:100]
        )
        start = time.perf_counter()
        assert_still_serving(server, trained)  # meanwhile, another client is answered
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert TIMEOUT * 0.9 < time.perf_counter() - start < TIMEOUT + 3
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split()[1] == b"408"
    assert_json_error(body)
    assert_still_serving(server, trained)


def test_a_client_that_stalls_mid_headers_gets_408_and_is_disconnected(server, trained):
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        start = time.perf_counter()
        reply = b""
        while chunk := sock.recv(65536):  # until the server closes the connection
            reply += chunk
    assert time.perf_counter() - start < TIMEOUT + 3
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split()[1] == b"408"
    assert json.loads(body) == {"error": f"the request did not arrive within {TIMEOUT:g} s"}
    assert_still_serving(server, trained)


# ---------------------------------------------------------------------------
# Under load: many clients, slow clients, and more clients than workers
# ---------------------------------------------------------------------------


@pytest.fixture
def limited_server(trained, request):
    """A server of its own, with the limits the test asks for (request.param); yields its port."""
    network, threshold, _, _ = trained
    server = draw_server.make_server(network, threshold, port=0, **request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def slow_loris(port: int, stop_after: float) -> tuple[socket.socket, threading.Thread, list]:
    """A client that sends one more header line every 0.2 s, never ending its headers, until
    the server closes the connection or stop_after seconds pass. The thread records when the
    server hung up (seconds after the start) and what it sent, in the returned list."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    outcome = []

    def trickle():
        start = time.perf_counter()
        sock.settimeout(0.2)
        reply = b""
        while time.perf_counter() - start < stop_after:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:  # nothing from the server yet: one more header line
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:  # the server has closed its side
                    break
                continue
            except OSError:
                break
            if not chunk:
                break
            reply += chunk
        outcome.extend([time.perf_counter() - start, reply])
        sock.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    return sock, thread, outcome


@pytest.mark.parametrize("limited_server", [{"request_timeout": 1.0}], indirect=True)
def test_slow_loris_clients_are_dropped_at_the_deadline_while_others_are_served(
    limited_server, trained
):
    # Each sends a header line every 0.2 s, well inside the socket timeout, so only a
    # deadline for the whole request stops them: before it, they were served forever.
    lorises = [slow_loris(limited_server, stop_after=5.0) for _ in range(10)]
    time.sleep(0.2)
    assert_still_serving(limited_server, trained)  # a good request, answered meanwhile
    for _, thread, _ in lorises:
        thread.join(timeout=10)
    for _, _, (seconds, reply) in lorises:
        assert 0.8 < seconds < 3.0  # dropped about 1 s after it connected, not at 5 s
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.split()[1] == b"408"
        assert_json_error(body)
    assert_still_serving(limited_server, trained)


@pytest.mark.parametrize("limited_server", [{"request_timeout": 30.0}], indirect=True)
def test_200_concurrent_requests_are_all_answered(limited_server, trained):
    # A listen backlog of 5 dropped connections from bursts like this one (the clients wait
    # 1, 3, 7 s to retry, and some gave up); with 128 and a queue, every one is answered.
    _, _, images, labels = trained
    body = canvas_png(images[0])
    answers = []

    def client():
        try:
            status, result = post_image(limited_server, body)
            answers.append((status, result["best_guess"]))
        except OSError as error:  # a refused or timed-out connection
            answers.append((None, repr(error)))

    clients = [threading.Thread(target=client) for _ in range(200)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=30)
    assert answers == [(200, labels[0])] * 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},  # DNS rebinding: a name of another site, resolved to us
        {"Host": "evil.example:8000"},
        {"Origin": "http://evil.example"},  # a cross-site form or fetch
        {"Origin": "null"},  # a sandboxed frame or a file:// page
    ],
)
def test_requests_naming_another_site_are_refused(server, trained, headers):
    status, _, body = request(server, "POST", "/predict", canvas_png(), headers)
    assert status == 403
    assert_json_error(body)
    status, _, _ = request(server, "GET", "/", headers=headers)
    assert status == 403
    assert_still_serving(server, trained)


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",  # port 80: another local web app
        "https://127.0.0.1",  # port 443
        "https://127.0.0.1:{port}",  # another scheme, the same port
        "ftp://127.0.0.1:{port}",
        "http://127.0.0.1:{port}/",  # an origin has no path
        "http://127.0.0.1:{port}@evil.example",
        "http://[::1]:1",
    ],
)
def test_an_origin_other_than_the_pages_own_exactly_is_refused(server, trained, origin):
    # Issue #29, item 6: the scheme and the port were ignored
    headers = {"Origin": origin.format(port=server)}
    status, _, body = request(server, "POST", "/predict", canvas_png(), headers)
    assert (status, json.loads(body)) == (403, {"error": "cross-site requests are not answered"})
    assert_still_serving(server, trained)


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_requests_naming_this_computer_are_answered(server, trained, name):
    headers = {"Host": f"{name}:{server}", "Origin": f"http://{name}:{server}"}
    status, _, body = request(server, "POST", "/predict", canvas_png(trained[2][0]), headers)
    assert status == 200 and json.loads(body)["best_guess"] == trained[3][0]


def test_open_browser_never_fails(monkeypatch):
    def broken(url):
        raise RuntimeError("no browser")

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(draw_server.webbrowser, "open", broken)
    draw_server.open_browser("http://127.0.0.1:1/")  # no exception


# ---------------------------------------------------------------------------
# In a real browser: headless Chromium, driven by Selenium
# ---------------------------------------------------------------------------


def test_drawing_in_a_real_browser(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"http://127.0.0.1:{server}/")
    canvas = browser.find_element(By.ID, "canvas")
    answer = browser.find_element(By.ID, "answer")
    assert answer.text == "?"
    # A "1": one vertical stroke down the middle, in small mouse moves (offsets from the centre)
    # duration: milliseconds per pointer move (Selenium waits 250 by default)
    stroke = ActionChains(browser, duration=10).move_to_element_with_offset(canvas, 5, -95)
    stroke.click_and_hold()
    for _ in range(19):
        stroke.move_by_offset(-1, 10)
    stroke.release().perform()
    WebDriverWait(browser, 10).until(lambda _: answer.text != "?")
    assert answer.text == "1", browser.find_element(By.ID, "status").text

    widths = browser.execute_script(
        "return [...document.querySelectorAll('#bars .bar')].map(b => parseFloat(b.style.width))"
    )
    assert len(widths) == 10 and sum(widths) == pytest.approx(100, abs=1) and max(widths) > 50
    # The heat map has red and blue pixels; the seen image has ink; two hidden-layer grids.
    colours = browser.execute_script("""
        const g = document.getElementById('heatmap').getContext('2d');
        const data = g.getImageData(0, 0, 168, 168).data;
        let red = 0, blue = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i] > data[i + 2] + 40) red++;
          if (data[i + 2] > data[i] + 40) blue++;
        }
        const seen = document.getElementById('seen').getContext('2d');
        const ink = seen.getImageData(0, 0, 168, 168).data.filter((v, i) => i % 4 == 0 && v > 128);
        return [red, blue, ink.length, document.querySelectorAll('#hidden canvas').length];
    """)
    red, blue, ink, hidden_grids = colours
    assert red > 100 and blue > 100 and ink > 500 and hidden_grids == 2
    save_screenshot(browser)

    # A "7" drawn with a finger: a touch pointer, one stroke along the bar and down
    browser.find_element(By.ID, "clear").click()
    finger = ActionBuilder(
        browser, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"), duration=10
    )
    finger.pointer_action.move_to(canvas, -70, -90).pointer_down()
    for step in range(1, 11):
        finger.pointer_action.move_to(canvas, -70 + 14 * step, -90)
    for step in range(1, 11):
        finger.pointer_action.move_to(canvas, 70 - 9 * step, -90 + 18 * step)
    finger.pointer_action.pointer_up()
    finger.perform()
    WebDriverWait(browser, 10).until(lambda _: answer.text != "?")
    assert answer.text == "7"
    save_screenshot(browser, "-touch")

    # Cleared and sent as it is (blank): "no digit", empty bars
    browser.find_element(By.ID, "clear").click()
    assert answer.text == "?"
    browser.execute_script("sendCanvas()")
    WebDriverWait(browser, 10).until(lambda _: answer.text != "?")
    assert answer.text == "no digit"
    widths = browser.execute_script(
        "return [...document.querySelectorAll('#bars .bar')].map(b => parseFloat(b.style.width))"
    )
    assert widths == [0] * 10
    save_screenshot(browser, "-blank")


@pytest.mark.parametrize(
    "limited_server",
    [{"request_timeout": 5.0, "max_connections": 2, "max_waiting": 2, "max_arriving": 64}],
    indirect=True,
)
def test_a_good_request_is_answered_within_2_s_under_a_flood_of_stalled_connections(
    limited_server, trained
):
    # The stalled requests never reach a worker: the front reads every request, and gives a
    # worker only a complete one; past 64 arriving, the oldest is closed. A good request sent
    # meanwhile is answered, again and again.
    _, _, images, labels = trained
    body = canvas_png(images[0])
    waits = []
    with StalledFlood(limited_server, "/predict") as flood:
        time.sleep(0.5)  # the flood has filled the server's places many times over
        for _ in range(10):
            start = time.perf_counter()
            status, result = post_image(limited_server, body)
            waits.append(time.perf_counter() - start)
            assert status == 200 and result["best_guess"] == labels[0]
            time.sleep(0.1)
    assert flood.opened > 20 * 20  # more stalled connections than places, many times over
    assert max(waits) < 2.0
