"""pages/compare_server.py: the comparison page's API on the hardened page server, and the
page in a real browser. The variants here train in this process, through the runner's own
hook (ProgressHook), so the page shows real runs without starting processes."""

import contextlib
import threading

import numpy as np
import pytest
from conftest import get_json, request, save_screenshot
from threadpoolctl import threadpool_limits

import NN_Numpy as nn
from pages import compare_server as cs
from using import experiments as ex
from using import points_map

DIVERGED = "the training loss became nan in epoch 1, batch 3; try a smaller learning rate"


def train_in_this_process(comparison, planned, split) -> None:
    """Each variant but the last trained here through ProgressHook; the last one fails."""
    for i, variant in enumerate(planned[:-1]):

        def send(message, block=True, i=i):
            comparison.receive({"variant": i, **message})

        config = variant.config
        network = nn.NeuralNetwork(seed=0, activation=config.activation, init=config.init)
        hook = ex.ProgressHook(send, config.batch_size)
        with threadpool_limits(1):
            nn.train(network, *split, config, lambda line: None, hook)
        send({"kind": "done", "status": 0})
    last = len(planned) - 1
    comparison.receive({"variant": last, "kind": "line", "stream": "stderr", "text": "error: x"})
    line = f"error: {DIVERGED}"
    comparison.receive({"variant": last, "kind": "line", "stream": "stderr", "text": line})
    comparison.receive({"variant": last, "kind": "done", "status": 1})


@contextlib.contextmanager
def serving(comparison):
    server = cs.CompareServer(("127.0.0.1", 0), comparison, request_timeout=2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def compared(small_split, tmp_path_factory):
    variants = {"relu": [], "sigmoid": ["--activation", "sigmoid"], "lr-1000": ["--lr", "1000"]}
    models = tmp_path_factory.mktemp("models")
    planned = ex.plan("test", variants, ["--epochs", "3"], models)
    comparison = ex.Comparison("test", "ReLU or sigmoid", "the gradients", planned, echo=False)
    comparison.handwriting = "no handwriting set here: not scored on handwriting"
    with serving(comparison) as port:
        yield port, comparison, planned, small_split


def test_before_any_variant_starts(tmp_path):
    planned = ex.plan("t", {"a": [], "b": ["--lr", "0.2"]}, [], tmp_path)
    with serving(ex.Comparison("t", "t", "t", planned, echo=False)) as port:
        status, state = get_json(port, "/state")
        assert status == 200 and [v["status"] for v in state["variants"]] == ["starting"] * 2
        assert state["results"] is None and state["finished"] is False
        for path in ("/weights?variant=0", "/maps?variant=1", "/maps/images?variant=0"):
            assert get_json(port, path)[0] == 503


def test_the_api_while_and_after_it_trains(compared):
    port, comparison, planned, split = compared
    train_in_this_process(comparison, planned, split)
    status, state = get_json(port, "/state")
    assert status == 200
    assert [v["status"] for v in state["variants"]] == ["trained", "trained", "failed"]
    relu, sigmoid, failed = state["variants"]
    assert relu["name"] == "A relu" and sigmoid["options"] == "--activation sigmoid"
    assert len(relu["history"]) == 3 and set(relu["history"][0]) == {
        "epoch",
        "loss",
        "learning_rate",
        "val_loss",
        "val_accuracy",
        "seconds",
    }
    assert failed["error"] == DIVERGED and failed["history"] == []
    # vanishing gradients: the sigmoid's first layer gets far less gradient than ReLU's
    assert sigmoid["gradient"][0][0] < relu["gradient"][0][0] / 5
    status, headers, body = request(port, "GET", "/weights?variant=1")
    assert status == 200 and headers["X-Units"] == "128" and len(body) == 128 * 784
    assert headers["X-Content-Type-Options"] == "nosniff"
    levels = np.frombuffer(body, np.uint8)
    assert levels.min() >= 1 and levels.max() <= 255 and len(np.unique(levels)) > 50
    status, maps = get_json(port, "/maps?variant=0")
    assert status == 200 and maps["epoch"] == 3
    assert list(maps["layers"]) == ["pixels", "hidden 1", "hidden 2", "output"]
    assert len(maps["layers"]["hidden 2"]) == len(maps["labels"]) == 1000
    assert set(maps["labels"]) == set(range(10)) and len(maps["predicted"]) == 1000
    assert len(maps["probability"]) == 1000
    assert 0.1 <= min(maps["probability"]) <= max(maps["probability"]) <= 1
    # the map's digits, in the order of its points: the validation rows it samples
    X_val, y_val = split[2], split[3]
    rows = points_map.map_sample(y_val)
    assert maps["labels"] == y_val[rows].tolist()
    status, headers, body = request(port, "GET", "/maps/images?variant=0")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert body == points_map.image_bytes(X_val[rows])
    for path in ("/maps?variant=2", "/maps/images?variant=2"):
        assert get_json(port, path)[0] == 503  # the failed variant has none


@pytest.mark.parametrize(
    "method, path, headers, status",
    [
        ("GET", "/weights", {}, 400),
        ("GET", "/weights?variant=3", {}, 400),
        ("GET", "/maps?variant=0&x=1", {}, 400),
        ("GET", "/maps?variant=-1", {}, 400),
        ("GET", "/maps/images", {}, 400),
        ("GET", "/maps/images?variant=3", {}, 400),
        ("GET", "/maps/images?layer=output", {}, 400),
        ("POST", "/maps/images", {"Content-Length": "2"}, 405),
        ("GET", "/nothing", {}, 404),
        ("POST", "/state", {"Content-Length": "2"}, 405),
        ("GET", "/state", {"Host": "evil.example"}, 403),
        ("GET", "/state", {"Origin": "http://evil.example"}, 403),
    ],
)
def test_bad_requests_get_4xx_json(compared, method, path, headers, status):
    port = compared[0]
    body = b"{}" if method == "POST" else None
    got, reply_headers, reply = request(port, method, path, body, headers)
    assert got == status and reply_headers["Content-Type"] == "application/json"
    assert b'"error"' in reply


def test_the_page_and_its_files_come_with_the_security_headers(compared):
    port = compared[0]
    for path in ("/", "/compare.js", "/digits.js", "/compare.css", "/draw.css"):
        status, headers, body = request(port, "GET", path)
        assert status == 200 and body
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert headers["X-Content-Type-Options"] == "nosniff"


CURVE_PIXELS = """
    const g = document.getElementById(arguments[0]).getContext('2d');
    const data = g.getImageData(0, 0, g.canvas.width, g.canvas.height).data;
    const near = (i, [r, gr, b]) => Math.abs(data[i] - r) + Math.abs(data[i + 1] - gr) +
        Math.abs(data[i + 2] - b) < 60 && data[i + 3] > 200;
    let blue = 0, orange = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (near(i, [31, 79, 191])) blue++;
        if (near(i, [224, 123, 0])) orange++;
    }
    return [blue, orange];
"""

INKED = """
    return [...document.querySelectorAll(arguments[0])].map((canvas) => {
        const g = canvas.getContext('2d');
        const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] && data[i + 1] < 200) inked++;
        return inked;
    });
"""


def test_the_page_in_a_real_browser(browser, small_split, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    variants = {"relu": [], "sigmoid": ["--activation", "sigmoid"], "lr-1000": ["--lr", "1000"]}
    planned = ex.plan("test", variants, ["--epochs", "3"], tmp_path)
    comparison = ex.Comparison("test", "ReLU or sigmoid", "the gradients", planned, echo=False)
    wait = WebDriverWait(browser, 20, poll_frequency=0.05)
    with serving(comparison) as port:
        browser.get(f"http://127.0.0.1:{port}/")
        wait.until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, ".variant-status")) == 3)
        assert "starting" in browser.find_element(By.ID, "variants").text
        train_in_this_process(comparison, planned, small_split)
        comparison.finish(
            [
                {"variant": "A relu", "failed": False, "validation_accuracy": 0.9, "model": "a"},
                {"variant": "B sigmoid", "failed": False, "validation_accuracy": 0.5, "model": "b"},
                {"variant": "C lr-1000", "failed": True, "model": "c"},
            ]
        )
        wait.until(lambda _: "failed: the training loss became nan" in browser.page_source)
        status = browser.find_elements(By.CSS_SELECTOR, ".variant-status")
        assert [s.get_attribute("class").split()[-1] for s in status] == ["trained"] * 2 + [
            "failed"
        ]
        # two curves, one colour each, in both charts
        for chart in ("loss-chart", "accuracy-chart"):
            wait.until(lambda _, c=chart: min(browser.execute_script(CURVE_PIXELS, c)) > 100)
        # the weights and the maps of the two that trained, side by side
        wait.until(lambda _: len(browser.execute_script(INKED, "#weights canvas")) == 3)
        wait.until(lambda _: min(browser.execute_script(INKED, "#weights canvas")[:2]) > 20_000)
        weights = browser.find_elements(By.CSS_SELECTOR, "#weights canvas")
        assert [w.get_attribute("data-units") for w in weights[:2]] == ["128", "128"]
        wait.until(lambda _: min(browser.execute_script(INKED, "#maps canvas.map")[:2]) > 1000)
        maps = browser.find_elements(By.CSS_SELECTOR, "#maps canvas.map")
        assert [m.get_attribute("data-points") for m in maps[:2]] == ["1000", "1000"]
        before = browser.execute_script(INKED, "#maps canvas.map")
        Select(browser.find_element(By.ID, "map-layer")).select_by_visible_text("pixels")
        wait.until(lambda _: browser.execute_script(INKED, "#maps canvas.map") != before)
        assert browser.execute_script(INKED, "#gradients canvas")[1] > 500
        rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
        assert len(rows) == 3 and rows[0].text.startswith("A relu")
        assert "90.00%" in rows[0].text and "failed" in rows[2].text
        browser.execute_script("window.scrollTo(0, 0)")
        save_screenshot(browser, "-compare")
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []


DIGIT_SHOWN = """
    const g = arguments[0].getContext('2d');  // 84x84: the 28x28 digit drawn 3x, unsmoothed
    const data = g.getImageData(0, 0, 84, 84).data;
    const levels = [];
    for (let row = 0; row < 28; row++)
        for (let column = 0; column < 28; column++)
            levels.push(255 - data[4 * ((3 * row + 1) * 84 + 3 * column + 1)]);
    return levels;
"""


def test_pointing_at_a_dot_shows_its_digit_and_that_variants_answer(browser, small_split, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    variants = {"relu": [], "sigmoid": ["--activation", "sigmoid"], "lr-1000": ["--lr", "1000"]}
    planned = ex.plan("test", variants, ["--epochs", "2"], tmp_path)
    comparison = ex.Comparison("test", "ReLU or sigmoid", "the gradients", planned, echo=False)
    train_in_this_process(comparison, planned, small_split)
    wait = WebDriverWait(browser, 20, poll_frequency=0.05)
    browser.get("about:blank")  # the page of a test before, whose server is gone, goes
    browser.get_log("browser")  # with what it logged
    with serving(comparison) as port:
        browser.get(f"http://127.0.0.1:{port}/")
        wait.until(lambda _: browser.execute_script("return imagesOf.length") == 2)
        maps = browser.find_elements(By.CSS_SELECTOR, "#maps canvas.map")
        infos = browser.find_elements(By.CSS_SELECTOR, "#maps .map-info")
        assert [info.text for info in infos] == ["point at a dot"] * 2 + [""]  # C: no map
        served = get_json(port, "/maps?variant=1")[1]
        images = np.frombuffer(request(port, "GET", "/maps/images?variant=1")[2], np.uint8)
        x, y = browser.execute_script("return screenOf[1][123]")
        assert maps[1].size["width"] == 300 + 2  # shown at its size (and a border of 1)
        ActionChains(browser).move_to_element_with_offset(
            maps[1], round(x - 151), round(y - 151)
        ).perform()
        wait.until(lambda _: browser.execute_script("return pointedOf[1]") is not None)
        pointed = browser.execute_script("return pointedOf[1]")
        near = browser.execute_script("return screenOf[1][pointedOf[1]]")
        assert np.hypot(*np.subtract(near, (x, y))) < 10
        label, said = served["labels"][pointed], served["predicted"][pointed]
        percent = int(np.floor(100 * served["probability"][pointed] + 0.5))  # as Math.round
        expected = f"a {label}: the network says {said} ({percent}%)"
        wait.until(lambda _: infos[1].text == expected)
        answer = infos[1].find_element(By.TAG_NAME, "span")
        assert answer.get_attribute("class") == ("right" if said == label else "wrong")
        # the very digit: its 784 bytes as /maps/images sends them, drawn 3x
        digit = browser.find_elements(By.CSS_SELECTOR, "#maps canvas.digit")[1]
        shown = browser.execute_script(DIGIT_SHOWN, digit)
        assert shown == images[784 * pointed : 784 * (pointed + 1)].tolist()
        assert sum(level > 128 for level in shown) > 50  # ink, not a blank picture
        assert infos[0].text == "point at a dot"  # the other variant's map: as it was
        browser.execute_script("arguments[0].closest('section').scrollIntoView()", digit)
        save_screenshot(browser, "-compare-hover")
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        browser.get("about:blank")  # no more polls of a server about to go
