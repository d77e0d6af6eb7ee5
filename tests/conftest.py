import functools
import gzip
import http.client
import io
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import NN_Numpy as nn  # noqa: E402
from files import kaggle_csv, paths, training_data


@pytest.fixture(scope="session", autouse=True)
def one_openmp_thread():
    """t-SNE (the report's points map) runs at one OpenMP thread in the tests. Each of its
    1,000 steps waits for every thread, so on this 2-core machine, when anything else runs (the
    suite's own subprocesses, another run), two threads are far slower than one: measured, a
    1,000-point map took 15 s instead of 4.4, a 120-point one 3.8 s instead of 0.3 (idle: 3.8
    s and 4.3, the same). BLAS keeps its threads: tests/using/test_experiments.py checks how
    NN_Numpy.py sets them. threadpoolctl limits only the libraries already loaded: t-SNE's
    OpenMP comes with sklearn.manifold, imported here first."""
    import sklearn.manifold  # noqa: F401

    with threadpool_limits(1, user_api="openmp"):
        yield


BUNDLED_TRAIN = paths.BUNDLED_DATA_DIR / "train.csv.gz"
READ_DIGITS_CSV = kaggle_csv.read_digits_csv  # the reader itself, before bundled_rows_parsed_once


def file_version(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


@functools.cache
def bundled_rows(version: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The bundled train.csv.gz as read_digits_csv reads it, once per version of the file."""
    return READ_DIGITS_CSV(BUNDLED_TRAIN)


@pytest.fixture(scope="session")
def mnist():
    """The bundled real MNIST training rows: pixels (42000, 784) uint8, labels (42000,)."""
    return bundled_rows(file_version(BUNDLED_TRAIN))


@pytest.fixture(scope="session", autouse=True)
def bundled_rows_parsed_once():
    """The runs in this process (training, report, gradcheck) get the bundled train.csv.gz's
    rows parsed once, by the same read_digits_csv: parsing its 42,000 rows takes about 1 s,
    and they read it about 45 times. Copies, so that no run can change another's rows; parsed
    again if the file changes on disk. Any other file (a test's own, data/raw/'s, a --data-dir
    folder's, a link to the bundled file), and every run in a subprocess: read as ever."""

    def read_digits_csv(path, *args, **kwargs):
        if Path(path) == BUNDLED_TRAIN and not args and not kwargs:
            pixels, labels = bundled_rows(file_version(BUNDLED_TRAIN))
            return pixels.copy(), labels.copy()
        return READ_DIGITS_CSV(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training_data, "read_digits_csv", read_digits_csv)  # training, report
        patch.setattr(kaggle_csv, "read_digits_csv", read_digits_csv)  # gradcheck's batch
        yield


@pytest.fixture(scope="session")
def small_split(mnist):
    """4,000 training and 1,000 validation rows, normalised to [0, 1]."""
    pixels, labels = mnist
    X = nn.normalize(pixels[:5000])
    return X[:4000], labels[:4000], X[4000:5000], labels[4000:5000]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    """A small CSV in the Digit Recognizer layout, for bad-input tests."""
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def canvas_png(digit: np.ndarray | None = None) -> bytes:
    """A 280x280 white canvas as PNG, with an MNIST digit (28x28, white on black) drawn on
    it in black, 200 px tall, as the page would send it; blank without a digit."""
    canvas = Image.new("RGBA", (280, 280), "white")
    if digit is not None:
        mask = Image.fromarray(digit.reshape(28, 28)).resize((200, 200), Image.Resampling.BICUBIC)
        canvas.paste(Image.new("RGBA", (200, 200), "black"), (40, 40), mask)
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None):
    """One HTTP request; returns (status, headers, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class StalledFlood:
    """`clients` threads, each opening connection after connection with a half-sent request
    (headers and part of a body: the rest never comes), keeping its latest `keep` open, until
    stopped; `opened` counts them all. Issue #29, item 9: 20 such clients with 6,400-10,000
    half-sent requests in 8 s held every worker and queue place, and a good POST got 503."""

    def __init__(self, port: int, path: str, clients: int = 20, keep: int = 20) -> None:
        self.port, self.keep, self.opened = port, keep, 0
        self.counting = threading.Lock()
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n"
        self.half_sent = head.encode() + bytes(100)
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.flood, daemon=True) for _ in range(clients)]

    def flood(self) -> None:
        held: list[socket.socket] = []
        while not self.stopping.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                sock.sendall(self.half_sent)
            except OSError:  # refused or reset: the server shed it; try again
                continue
            with self.counting:
                self.opened += 1
            held.append(sock)
            if len(held) > self.keep:
                held.pop(0).close()
        for sock in held:
            sock.close()

    def __enter__(self) -> "StalledFlood":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)


# In a real browser: headless Chromium, driven by Selenium

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            "needs Debian's chromium and chromium-driver: "
            "apt-get install -y chromium chromium-driver"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs pip's selenium")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never download a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ]:
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


def save_screenshot(driver, suffix: str = "") -> None:
    """To the path in $DRAW_SCREENSHOT, if set (suffix before the extension)."""
    if os.environ.get("DRAW_SCREENSHOT"):
        path = Path(os.environ["DRAW_SCREENSHOT"])
        driver.save_screenshot(str(path.with_name(path.stem + suffix + path.suffix)))


# Shared by the test files of more than one module or command (issue #25: no test file imports
# another). Each group says which.


# A training CSV's header: tests/files/ (kaggle_csv, outputs, safe_reading, training_data)
TRAIN_HEADER = ["label"] + kaggle_csv.PIXEL_COLUMNS


# A network trained once a session, saved without a run record: tests/commands/ (predict,
# report, submit); `network`, the same loaded: tests/using/test_photos.py
@pytest.fixture(scope="session")
def model_path(mnist, tmp_path_factory):
    """A network trained for 5 epochs on 20,000 real rows (about 96% accurate), saved."""
    pixels, labels = mnist
    network = nn.NeuralNetwork(seed=0)
    nn.train(
        network,
        nn.normalize(pixels[:20000]),
        labels[:20000],
        config=nn.TrainConfig(epochs=5),
        log=lambda line: None,
    )
    path = (
        tmp_path_factory.mktemp("model") / "model.npz"
    )  # no run record: trained here, not by main()
    network.save(path)
    return path


@pytest.fixture(scope="session")
def network(model_path):
    return nn.NeuralNetwork.load(model_path)


def paste_on_canvas(
    digit: np.ndarray,
    size=(640, 480),
    at=(470, 60),
    scale=70,
    ink=(25, 25, 40),
    paper=(235, 232, 220),
):
    """An MNIST digit (28x28, white on black) drawn small and off-centre on a big light RGB page."""
    page = Image.new("RGB", size, paper)
    mask = Image.fromarray(digit).resize((scale, scale), Image.Resampling.BICUBIC)
    page.paste(Image.new("RGB", (scale, scale), ink), at, mask)
    return page


# Data folders made from the bundled rows, and a one-epoch run on one: tests/files/
# (mnist_folders, class_names, kaggle_csv)
DIGITS = "0, 1, 2, 3, 4, 5, 6, 7, 8, 9"


def write_idx(path: Path, header: list[int], payload: bytes) -> Path:
    """An IDX file: big-endian uint32 header (magic, dimensions), then the bytes; gzipped if
    the name ends in .gz."""
    data = struct.pack(f">{len(header)}I", *header) + payload
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def write_idx_pair(folder: Path, prefix: str, pixels, labels, gz=True) -> tuple[Path, Path]:
    """prefix-images-idx3-ubyte[.gz] and prefix-labels-idx1-ubyte[.gz], as MNIST ships them."""
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    images = folder / f"{prefix}-images-idx3-ubyte{ext}"
    write_idx(images, [0x803, len(pixels), 28, 28], np.asarray(pixels, np.uint8).tobytes())
    labels_file = folder / f"{prefix}-labels-idx1-ubyte{ext}"
    write_idx(labels_file, [0x801, len(labels)], np.asarray(labels, np.uint8).tobytes())
    return images, labels_file


def write_fashion_csv(path: Path, pixels, labels) -> Path:
    """Kaggle's Fashion-MNIST layout: label,pixel1,...,pixel784, one image per line."""
    header = ",".join(kaggle_csv.FASHION_COLUMNS)
    rows = np.column_stack([labels, pixels]).astype(np.int64)
    np.savetxt(path, rows, fmt="%d", delimiter=",", header=header, comments="")
    return path


def train(folder: Path, tmp_path: Path, *extra) -> int:
    argv = ["--data-dir", str(folder), "--epochs", "1", "--no-plots", "--hidden", "32"]
    return nn.main([*argv, "--model", str(tmp_path / "model.npz"), *map(str, extra)])


# The hostile-input tests': tests/files/, tests/using/, tests/commands/test_report.py,
# tests/tutorial/
SRC = Path(nn.__file__).parent


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small trained model with its run record, made by the command line (one per test
    module; tests/files/test_run_record.py has its own)."""
    path = tmp_path_factory.mktemp("model") / "model.npz"
    assert nn.main(["--limit", "600", "--epochs", "1", "--no-plots", "--model", str(path)]) == 0
    return path


# A short run of 2 epochs for the record tests (tests/files/test_model_file.py has its own
# QUICK of 1 epoch)
QUICK = ["--limit", "600", "--epochs", "2", "--no-plots"]


RETRAIN = "retrain the model: python src/NN_Numpy.py"


# Random images: tests/learning/test_augment.py, tests/using/test_digit_model.py
def images(n=50, seed=0):
    return np.random.default_rng(seed).random((n, 784), dtype=np.float32)


# A network and its not-sure threshold, once a module: tests/pages/test_draw_server.py,
# tests/commands/test_draw.py
@pytest.fixture(scope="module")
def trained(mnist):
    """A network trained for 5 epochs on 20,000 real rows (about 96% accurate; < 1 s),
    its not-sure threshold from 2,000 other rows, and those rows for the tests to draw."""
    pixels, labels = mnist
    network = nn.NeuralNetwork(seed=0)
    X = nn.normalize(pixels[:20000])
    # One BLAS thread: on a busy 2-core machine, two threads waiting on each other make
    # this 0.7 s training take 30 s.
    with threadpool_limits(1):
        nn.train(network, X, labels[:20000], config=nn.TrainConfig(epochs=5), log=lambda line: None)
    probs = network.predict_proba(nn.normalize(pixels[20000:22000]))
    threshold = nn.not_sure_threshold(probs, labels[20000:22000])
    return network, threshold, pixels[20000:22000], labels[20000:22000]


# The live-training page's: tests/pages/test_watch_training.py, tests/commands/test_watch.py
def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def get_json(port, path, method="GET", body=None):
    status, _, reply = request(port, method, path, body)
    return status, json.loads(reply)


# A command started as a terminal starts it: tests/commands/ (draw, compare)
def ctrl_c_as_in_a_terminal() -> None:
    """Popen's preexec_fn, in the child before it starts: SIGINT delivered and handled as a
    shell gives it (a child inherits an ignored or blocked SIGINT, and the test runner's
    threads may leave one so), and a process group of its own, as a shell gives a command:
    os.killpg(pid, SIGINT) is then the Ctrl-C that reaches it and every process it starts."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgid(0, 0)
